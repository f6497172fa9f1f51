#!/usr/bin/env python3
"""Chaos under load: hat-server, several hat-agents and a chain of jobs on loopback, while the
server is killed with SIGKILL at random moments, agents are killed and restarted, and one agent
is stopped (SIGSTOP) for longer than its lease. Then, from the full export (one line per stored
measurement) and the agents' logs of acknowledged reports:

  - every config of the latency-dataset job measured, every job finished;
  - no acknowledged measurement lost (each task an agent saw acknowledged is in the store);
  - none stored twice (task ids unique in the export);
  - the search's result equal to an uninterrupted run of the same search (same seed) afterwards.

The jobs: a SuperTransformer job (tiny space, a toy corpus, a few steps), a latency-dataset job
of --configs configs, a predictor job on its measurements, and an evolutionary search on the
SuperTransformer with that predictor (which has its winners re-measured by the agents).

Usage: tests/chaos/chaos.py BUILD_DIR [--configs 300] [--agents 3] [--server-kills 10]
         [--seed 1] [--timeout 1200] [--keep DIR] [--json]
Exit status 0 when every check holds. Timing only bounds the run; no check is about speed.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

FLEET, ADMIN = "chaos-fleet-token", "chaos-admin-token"
DEVICE_CLASS = "chaos"
LEASE_S, LOST_AFTER_S, HEARTBEAT_S = 4.0, 2.0, 0.5
TERMINAL = {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_toy_corpus(folder, train_pairs=200):
    """Word-by-word 'translations' over a dozen words, like tests/support/toy_corpus.h."""
    english = "a dog cat runs sits on the red big mat in park".split()
    german = "ein hund katze rennt sitzt auf der rote grosse matte im park".split()
    rng = random.Random(7)
    os.makedirs(folder, exist_ok=True)
    for split, n in (("train", train_pairs), ("valid", 16), ("test", 16)):
        with open(f"{folder}/{split}.en", "w") as en, open(f"{folder}/{split}.de", "w") as de:
            for _ in range(n):
                words = [rng.randrange(12) for _ in range(rng.randrange(3, 8))]
                en.write(" ".join(english[k] for k in words) + "\n")
                de.write(" ".join(german[k] for k in words) + "\n")
    with open(f"{folder}/corpus.json", "w") as f:
        f.write('{"languages": ["en", "de"]}')


class Fleet:
    def __init__(self, build, work, port, agents):
        self.build, self.work, self.port = build, work, port
        self.address = f"127.0.0.1:{port}"
        self.server = None
        self.agents = [None] * agents
        self.stopped = None  # index of the agent under SIGSTOP

    def log(self, name):
        return open(os.path.join(self.work, name + ".log"), "a")

    def start_server(self):
        self.server = subprocess.Popen(
            [f"{self.build}/bin/hat-server", f"--data-dir={self.work}/data",
             f"--listen={self.address}", f"--fleet_token={FLEET}", f"--admin_token={ADMIN}",
             f"--corpora-dir={self.work}/corpora", f"--heartbeat_seconds={HEARTBEAT_S}",
             f"--lost_after_seconds={LOST_AFTER_S}", f"--lease_seconds={LEASE_S}",
             "--recovery_grace_seconds=5", "--max_attempts=20"],
            stdout=self.log("server"), stderr=subprocess.STDOUT)

    def kill_server(self):
        self.server.send_signal(signal.SIGKILL)
        self.server.wait()

    def start_agent(self, i):
        self.agents[i] = subprocess.Popen(
            [f"{self.build}/bin/hat-agent", f"--server={self.address}",
             f"--device-class={DEVICE_CLASS}", f"--token={FLEET}", "--log_reports"],
            stdout=self.log(f"agent-{i}"), stderr=subprocess.STDOUT)

    def kill_agent(self, i):
        self.agents[i].send_signal(signal.SIGKILL)
        self.agents[i].wait()

    def hatctl(self, *args):
        """(exit code, output) of one hatctl call; never raises."""
        try:
            r = subprocess.run([f"{self.build}/bin/hatctl", *args, "--server", self.address,
                                "--token", ADMIN, "--timeout", "10"],
                               capture_output=True, text=True, timeout=60)
            return r.returncode, r.stdout + r.stderr
        except subprocess.TimeoutExpired:
            return -1, "timed out"

    def job(self, job_id):
        code, out = self.hatctl("jobs", "get", job_id, "--json")
        return json.loads(out) if code == 0 else None

    def stop_all(self):
        for p in [self.server, *self.agents]:
            if p and p.poll() is None:
                p.send_signal(signal.SIGCONT)
                p.send_signal(signal.SIGTERM)
        for p in [self.server, *self.agents]:
            if p:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("--configs", type=int, default=300)
    ap.add_argument("--agents", type=int, default=3)
    ap.add_argument("--server-kills", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=1200)
    ap.add_argument("--keep", help="keep the run's folder (logs, store) here")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="hatfleet-chaos-")
    write_toy_corpus(f"{work}/corpora/toy")
    fleet = Fleet(build, work, free_port(), args.agents)
    started = time.monotonic()
    deadline = started + args.timeout
    figures = {"configs": args.configs, "agents": args.agents, "seed": args.seed,
               "server_kills": 0, "server_kills_by_phase": {}, "agent_kills": 0,
               "agent_stops": 0, "agent_stop_seconds": LEASE_S + 3, "lease_seconds": LEASE_S}
    failures = []

    def progress(message):
        if not args.json:
            print(f"[{time.monotonic() - started:6.1f}s] {message}", flush=True)

    fleet.start_server()
    for i in range(args.agents):
        fleet.start_agent(i)

    # The jobs, submitted with idempotency keys: a submission the server acknowledged before a
    # kill is not submitted twice when hatctl tries again.
    search_flags = ["--constraint", f"{DEVICE_CLASS}:100000", "--iterations", "10",
                    "--population", "16", "--parents", "4", "--mutations", "6",
                    "--crossovers", "6", "--valid-sentences", "8", "--threads", "1",
                    "--seed", str(args.seed)]
    submissions = {
        "supernet": ["supernet", "--space", "tiny", "--corpus", "toy", "--vocab-size", "60",
                     "--max-tokens", "256", "--threads", "1", "--valid-sentences", "8",
                     "--steps", "40", "--save-every", "8", "--seed", "2"],
        "dataset": ["latency-dataset", "--space", "tiny", "--device-class", DEVICE_CLASS,
                    "--samples", str(args.configs), "--protocol", "hat", "--runs", "2",
                    "--warmup", "1"],
        "predictor": ["predictor", "--device-class", DEVICE_CLASS],
        "search": ["search", "--supernet", None, *search_flags],
    }
    ids, states, results = {}, {}, {}

    def submit(name, argv):
        code, out = fleet.hatctl("jobs", "submit", *argv, "--idempotency-key",
                                 f"chaos-{args.seed}-{name}")
        if code == 0:
            ids[name] = out.strip().splitlines()[-1]
            progress(f"submitted {name}: {ids[name]}")

    def phase():
        running = [n for n in ids if states.get(n) not in TERMINAL]
        return "+".join(sorted(running)) or "idle"

    next_server_kill = time.monotonic() + rng.uniform(2, 6)
    next_agent_kill = time.monotonic() + rng.uniform(3, 8)
    stop_at = time.monotonic() + rng.uniform(5, 10)
    stopped_until = None
    restart_at = None  # set while the server is down because it was killed here
    while time.monotonic() < deadline:
        now = time.monotonic()
        # Drive the job chain.
        if fleet.server.poll() is None:
            for name in ("supernet", "dataset"):
                if name not in ids:
                    submit(name, submissions[name])
            if "predictor" not in ids and states.get("dataset") == "JOB_STATE_SUCCEEDED":
                submit("predictor", submissions["predictor"])
            if ("search" not in ids and states.get("predictor") == "JOB_STATE_SUCCEEDED" and
                    states.get("supernet") == "JOB_STATE_SUCCEEDED"):
                argv = list(submissions["search"])
                argv[2] = results["supernet"]["result"]["artifact_id"]
                submissions["search"] = argv
                submit("search", argv)
            for name, job_id in ids.items():
                if states.get(name) in TERMINAL:
                    continue
                job = fleet.job(job_id)
                if job:
                    if job.get("state") != states.get(name):
                        progress(f"{name} {job.get('state')}")
                    states[name], results[name] = job.get("state"), job
        if any(states.get(n) in ("JOB_STATE_FAILED", "JOB_STATE_CANCELLED") for n in ids):
            failures.append("a job ended without succeeding: " +
                            json.dumps({n: states.get(n) for n in ids}))
            break
        if states.get("search") == "JOB_STATE_SUCCEEDED":
            break
        # The chaos.
        if fleet.server.poll() is not None:
            if restart_at is None:
                failures.append(f"hat-server exited by itself (code {fleet.server.returncode})")
                break
            if now >= restart_at:
                fleet.start_server()
                restart_at = None
                progress("server restarted")
        elif figures["server_kills"] < args.server_kills and now >= next_server_kill:
            p = phase()
            fleet.kill_server()
            figures["server_kills"] += 1
            figures["server_kills_by_phase"][p] = figures["server_kills_by_phase"].get(p, 0) + 1
            restart_at = now + rng.uniform(0.2, 2.0)
            next_server_kill = restart_at + rng.uniform(2, 8)
            progress(f"server killed (SIGKILL #{figures['server_kills']}, during {p})")
        if now >= next_agent_kill:
            i = rng.randrange(args.agents)
            if i != fleet.stopped:
                fleet.kill_agent(i)
                figures["agent_kills"] += 1
                time.sleep(rng.uniform(0.1, 1.0))
                fleet.start_agent(i)
                progress(f"agent {i} killed and restarted")
            next_agent_kill = now + rng.uniform(4, 12)
        if stopped_until is None and now >= stop_at:
            fleet.stopped = rng.randrange(args.agents)
            fleet.agents[fleet.stopped].send_signal(signal.SIGSTOP)
            stopped_until = now + figures["agent_stop_seconds"]
            figures["agent_stops"] += 1
            progress(f"agent {fleet.stopped} stopped for {figures['agent_stop_seconds']}s")
        elif stopped_until is not None and fleet.stopped is not None and now >= stopped_until:
            fleet.agents[fleet.stopped].send_signal(signal.SIGCONT)
            progress(f"agent {fleet.stopped} continued")
            fleet.stopped = None
        time.sleep(0.25)
    else:
        failures.append(f"the jobs did not finish within {args.timeout}s: " +
                        json.dumps({n: states.get(n) for n in ids}))

    if fleet.stopped is not None:
        fleet.agents[fleet.stopped].send_signal(signal.SIGCONT)
    if fleet.server.poll() is not None:
        fleet.start_server()
    figures["chaos_seconds"] = round(time.monotonic() - started, 1)

    if not failures:
        # The same search again, uninterrupted, on the same server and predictor.
        progress("the same search again, uninterrupted")
        code, out = fleet.hatctl("jobs", "submit", *submissions["search"])
        reference = out.strip().splitlines()[-1] if code == 0 else None
        while reference and time.monotonic() < deadline + 600:
            job = fleet.job(reference)
            if job and job.get("state") in TERMINAL:
                results["reference"] = job
                break
            time.sleep(0.5)
        a, b = results.get("search", {}).get("result"), results.get("reference", {}).get("result")
        if not b or results["reference"].get("state") != "JOB_STATE_SUCCEEDED":
            failures.append("the uninterrupted search did not succeed: " + out)
        else:
            key = lambda r: [(p["config"]["canonical_key"], p["valid_loss"]) for p in r["pareto"]]
            history = lambda j: [h["best_loss"] for h in j["progress"].get("search_history", [])]
            figures["search_equal"] = (key(a) == key(b) and
                                       history(results["search"]) == history(results["reference"]))
            if not figures["search_equal"]:
                failures.append(f"the search under chaos found {key(a)}, uninterrupted {key(b)}")

    # Every acknowledged measurement is stored, once.
    code, export = fleet.hatctl("dataset", "export", "--device-class", DEVICE_CLASS, "--format",
                                "full")
    rows = [json.loads(l) for l in export.splitlines() if l.strip()] if code == 0 else []
    if code != 0:
        failures.append("export failed: " + export)
    stored = {}
    for r in rows:
        stored[r["task_id"]] = stored.get(r["task_id"], 0) + 1
    acknowledged = set()
    for i in range(args.agents):
        with open(f"{work}/agent-{i}.log") as f:
            acknowledged |= set(
                re.findall(r"^hat-agent: acknowledged (\S+) \(", f.read(), re.M))
    dataset_id = ids.get("dataset")
    dataset_rows = [r for r in rows if r.get("job_id") == dataset_id]
    figures.update({
        "measurements_checked": len(rows),
        "acknowledged": len(acknowledged),
        "lost": len(acknowledged - set(stored)),
        "stored_twice": sum(1 for n in stored.values() if n > 1),
        "dataset_configs_stored": len({r["config_id"] for r in dataset_rows}),
        "jobs": {n: states.get(n) for n in ids},
    })
    if figures["lost"]:
        failures.append(f"{figures['lost']} acknowledged measurements are not in the store")
    if figures["stored_twice"]:
        failures.append(f"{figures['stored_twice']} tasks stored more than once")
    if len(dataset_rows) != args.configs or figures["dataset_configs_stored"] != args.configs:
        failures.append(f"the dataset job stored {len(dataset_rows)} measurements of "
                        f"{figures['dataset_configs_stored']} configs, expected {args.configs}")
    figures["passed"] = not failures
    figures["failures"] = failures

    fleet.stop_all()
    if args.keep:
        shutil.copytree(work, args.keep, dirs_exist_ok=True)
    shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for k, v in figures.items():
            print(f"{k}: {v}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
