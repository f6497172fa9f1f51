#!/usr/bin/env python3
"""A full disk under hat-server: its data directory on a small tmpfs, an agent measuring a
latency-dataset job, and the disk filled to the last byte partway through. Checks:

  - while the disk is full, the server stays up and answers reads (health, jobs get), refuses
    what it cannot store with a status that says why (no space), and acknowledges nothing it
    did not store;
  - when space returns, the agent's retried reports are stored and the job finishes;
  - at the end, every config measured once and every acknowledged measurement stored (full
    export against the agent's log of acknowledged reports).

Needs root (mount -t tmpfs); exits 77 (skipped) without it.
Usage: tests/chaos/full_disk.py BUILD_DIR [--configs 120] [--disk-mb 48] [--json]
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

FLEET, ADMIN = "disk-fleet-token", "disk-admin-token"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("--configs", type=int, default=120)
    ap.add_argument("--disk-mb", type=int, default=48)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    work = tempfile.mkdtemp(prefix="hatfleet-disk-")
    disk = f"{work}/disk"
    os.makedirs(disk)
    if os.geteuid() != 0 or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={args.disk_mb}m", "tmpfs", disk],
            capture_output=True).returncode != 0:
        print("SKIP: mounting a tmpfs needs root", file=sys.stderr)
        return 77
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"
    logs = {n: open(f"{work}/{n}.log", "a") for n in ("server", "agent")}
    server = subprocess.Popen(
        [f"{build}/bin/hat-server", f"--data-dir={disk}/data", f"--listen={address}",
         f"--fleet_token={FLEET}", f"--admin_token={ADMIN}", "--heartbeat_seconds=0.5",
         "--lost_after_seconds=3", "--lease_seconds=5"],
        stdout=logs["server"], stderr=subprocess.STDOUT)
    agent = None
    started = time.monotonic()
    figures, failures = {"configs": args.configs, "disk_mb": args.disk_mb}, []

    def hatctl(*argv):
        r = subprocess.run([f"{build}/bin/hatctl", *argv, "--server", address, "--token", ADMIN,
                            "--timeout", "10"], capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr

    def job_state(job_id):
        code, out = hatctl("jobs", "get", job_id, "--json")
        return json.loads(out) if code == 0 else None

    def wait(predicate, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            value = predicate()
            if value:
                return value
            time.sleep(0.25)
        return None

    def acknowledged():
        with open(f"{work}/agent.log") as f:
            return set(re.findall(r"^hat-agent: acknowledged (\S+) \(", f.read(), re.M))

    filler = f"{disk}/filler"
    try:
        if not wait(lambda: hatctl("health")[0] == 0, 30):
            raise RuntimeError("hat-server did not start")
        agent = subprocess.Popen(
            [f"{build}/bin/hat-agent", f"--server={address}", "--device-class=disk",
             f"--token={FLEET}", "--log_reports"], stdout=logs["agent"], stderr=subprocess.STDOUT)
        code, out = hatctl("jobs", "submit", "latency-dataset", "--space", "tiny",
                           "--device-class", "disk", "--samples", str(args.configs), "--protocol",
                           "hat", "--runs", "2", "--warmup", "1")
        if code != 0:
            raise RuntimeError("submit failed: " + out)
        job = out.strip().splitlines()[-1]
        # Partway through: fill the disk to the last byte.
        done = lambda: int((job_state(job) or {}).get("progress", {}).get("done", 0))  # noqa: E731
        wait(lambda: done() >= args.configs // 4, args.timeout)
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)
        figures["done_when_filled"] = done()
        acked_when_full = len(acknowledged())
        # Full: the server keeps answering reads; the agent's reports are refused.
        time.sleep(8)
        health, health_out = hatctl("health")
        got = job_state(job)
        figures["health_while_full"] = "SERVING" if health == 0 else health_out.strip()
        figures["reads_while_full"] = got is not None
        figures["acknowledged_while_full"] = len(acknowledged()) - acked_when_full
        with open(f"{work}/agent.log") as f:
            agent_log = f.read()
        with open(f"{work}/server.log") as f:
            server_log = f.read()
        refusal = re.search(r".*[Nn]o space left.*", agent_log + server_log)
        figures["refusal_message"] = refusal.group(0).strip()[:300] if refusal else None
        if health != 0:
            failures.append("health check failed while the disk was full: " + health_out)
        if got is None:
            failures.append("jobs get failed while the disk was full")
        if not refusal:
            failures.append("no message says the disk is full (agent and server logs)")
        if server.poll() is not None:
            failures.append(f"hat-server exited while the disk was full (code {server.returncode})")
        # Space returns.
        os.remove(filler)
        recovered_at = time.monotonic()
        final = wait(lambda: (lambda j: j if j and j.get("state") in (
            "JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED") else None)(
                job_state(job)), args.timeout)
        figures["seconds_to_finish_after_space_returned"] = round(time.monotonic() - recovered_at, 1)
        figures["job_state"] = final.get("state") if final else None
        if not final or final.get("state") != "JOB_STATE_SUCCEEDED":
            failures.append(f"the job did not succeed after space returned: {final}")
        code, export = hatctl("dataset", "export", "--device-class", "disk", "--format", "full")
        rows = [json.loads(l) for l in export.splitlines() if l.strip()] if code == 0 else []
        tasks = [r["task_id"] for r in rows]
        acked = acknowledged()
        figures.update({"measurements_checked": len(rows), "acknowledged": len(acked),
                        "lost": len(acked - set(tasks)),
                        "stored_twice": len(tasks) - len(set(tasks)),
                        "configs_stored": len({r["config_id"] for r in rows})})
        if figures["lost"] or figures["stored_twice"]:
            failures.append("measurements lost or stored twice")
        if figures["configs_stored"] != args.configs:
            failures.append(f"{figures['configs_stored']} configs stored, expected {args.configs}")
    except Exception as e:  # noqa: BLE001: any failure of the run is reported as one
        failures.append(repr(e))
    finally:
        for p in (agent, server):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
        subprocess.run(["umount", disk], capture_output=True)
    figures["seconds"] = round(time.monotonic() - started, 1)
    figures["passed"] = not failures
    figures["failures"] = failures
    if failures:
        figures["logs"] = work  # kept for a look
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(figures, indent=2) if args.json else
          "\n".join(f"{k}: {v}" for k, v in figures.items()))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
