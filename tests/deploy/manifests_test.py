#!/usr/bin/env python3
"""deploy/kubernetes and deploy/docker checked offline, against each other and the code.

Every manifest parses and has what Kubernetes requires; the kustomization lists every manifest;
images name the Dockerfiles' images at the project's version; ports, the data volume, the user
and the entry points agree with the Dockerfiles; Secrets referenced exist in the example with
those keys; probes run `hatctl health` (shipped in the server image); each agent's node selector
and HAT_DEVICE_CLASS agree; GPU agents take a GPU. Usage: manifests_test.py REPO_ROOT
"""
import os
import pathlib
import re
import subprocess
import sys
import tempfile

import yaml

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
K8S = ROOT / "deploy/kubernetes"
DOCKER = ROOT / "deploy/docker"
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def dockerfile(name):
    """FROM count, EXPOSEd ports, USER, VOLUMEs, ENV names and the ENTRYPOINT of a Dockerfile."""
    text = (DOCKER / name).read_text().replace("\\\n", " ")
    lines = [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]
    info = {"from": 0, "expose": set(), "user": None, "volume": set(), "env": set(),
            "entrypoint": None}
    for line in lines:
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            info["from"] += 1
        elif word == "EXPOSE":
            info["expose"] |= {int(p) for p in rest.split()}
        elif word == "USER":
            info["user"] = rest.strip()
        elif word == "VOLUME":
            info["volume"] |= set(rest.split())
        elif word == "ENV":
            info["env"] |= set(re.findall(r"([A-Z_]+)=", rest))
        elif word == "ENTRYPOINT":
            info["entrypoint"] = yaml.safe_load(rest)
    return info


version = re.search(r"project\(hatfleet VERSION ([0-9.]+)", (ROOT / "CMakeLists.txt").read_text())
version = version.group(1)
dockerfiles = {
    f"hatfleet/hat-server:{version}": "Dockerfile.server",
    f"hatfleet/hat-agent:{version}": "Dockerfile.agent",
    f"hatfleet/hat-agent-cuda:{version}": "Dockerfile.agent-cuda",
}
images = {name: dockerfile(file) for name, file in dockerfiles.items()}
for name, info in images.items():
    file = dockerfiles[name]
    check(info["from"] >= 2, f"{file}: not multi-stage")
    check(info["user"] and not info["user"].startswith(("0", "root")),
          f"{file}: the image does not run as a non-root user ({info['user']})")
    tags = re.findall(r"build -f deploy/docker/(\S+) -t (\S+) ", (DOCKER / file).read_text())
    check(tags == [(file, name)], f"{file}: its build command makes {tags}, not {name}")
uid = int(images[f"hatfleet/hat-server:{version}"]["user"].split(":")[0])

# Every manifest parses and carries apiVersion, kind and a name; namespaced ones say hatfleet.
docs = {}
for path in sorted(K8S.glob("*.yaml")):
    for d in load(path):
        if path.name == "kustomization.yaml":
            continue
        for key in ("apiVersion", "kind"):
            check(key in d, f"{path.name}: a document without {key}")
        name = d.get("metadata", {}).get("name")
        check(name, f"{path.name}: a {d.get('kind')} without metadata.name")
        if d.get("kind") != "Namespace":
            check(d.get("metadata", {}).get("namespace") == "hatfleet",
                  f"{path.name}: {d.get('kind')}/{name} is not in namespace hatfleet")
        docs.setdefault(path.name, []).append(d)
kustomization = load(K8S / "kustomization.yaml")[0]
listed = set(kustomization["resources"])
expected = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secrets.example.yaml"}
check(listed == expected, f"kustomization resources {sorted(listed)} != manifests {sorted(expected)}")

def of_kind(kind):
    return [d for file in docs.values() for d in file if d["kind"] == kind]

secrets = {d["metadata"]["name"]: set(d.get("stringData", {})) for d in of_kind("Secret")}
services = {d["metadata"]["name"]: d for d in of_kind("Service")}

def pod_checks(workload):
    name = workload["metadata"]["name"]
    spec = workload["spec"]
    template = spec["template"]
    check(template["metadata"]["labels"].items() >= spec["selector"]["matchLabels"].items(),
          f"{name}: the selector does not match the pod template's labels")
    pod = template["spec"]
    context = pod.get("securityContext", {})
    check(context.get("runAsNonRoot") is True and context.get("runAsUser") == uid,
          f"{name}: pods must run as non-root uid {uid} (the images' USER)")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    claims = {c["metadata"]["name"] for c in spec.get("volumeClaimTemplates", [])}
    for c in pod["containers"]:
        check(c["image"] in images, f"{name}: image {c['image']} is built by no Dockerfile here")
        info = images.get(c["image"], {"env": set(), "expose": set()})
        for m in c.get("volumeMounts", []):
            check(m["name"] in volumes or m["name"] in claims,
                  f"{name}: mount {m['name']} names no volume")
        for v in volumes.values():
            if "secret" in v:
                check(v["secret"]["secretName"] in secrets,
                      f"{name}: volume {v['name']} reads Secret {v['secret']['secretName']}, "
                      "which secrets.example.yaml does not define")
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                check(ref["key"] in secrets.get(ref["name"], set()),
                      f"{name}: env {e['name']} reads {ref['name']}/{ref['key']}, not in the example")
        yield c, info, pod, volumes, claims

# The server: a one-replica StatefulSet whose ports, data volume and probes match its image.
server_sets = of_kind("StatefulSet")
check(len(server_sets) == 1, "one StatefulSet (hat-server) expected")
for ss in server_sets:
    check(ss["spec"]["replicas"] == 1, "hat-server: one replica (a single RocksDB writer)")
    check(ss["spec"]["serviceName"] in services, "hat-server: serviceName names no Service")
    for c, info, pod, volumes, claims in pod_checks(ss):
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        check(set(ports.values()) == info["expose"],
              f"hat-server: container ports {sorted(ports.values())} != EXPOSE {sorted(info['expose'])}")
        entry = " ".join(info["entrypoint"])
        check(f"--listen=0.0.0.0:{ports.get('grpc')}" in entry, "hat-server: gRPC port != --listen")
        check(f"--http=0.0.0.0:{ports.get('http')}" in entry, "hat-server: http port != --http")
        data = [m for m in c["volumeMounts"] if m["name"] in claims]
        check(len(data) == 1 and data[0]["mountPath"] in info["volume"] and
              f"--data-dir={data[0]['mountPath']}" in entry,
              "hat-server: the persistent volume is not mounted at the image's --data-dir VOLUME")
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            command = c.get(probe, {}).get("exec", {}).get("command", [])
            check(command[:2] == ["hatctl", "health"],
                  f"hat-server: {probe} does not ask the gRPC health service (hatctl health)")
            check(any(a == f"--server=localhost:{ports.get('grpc')}" for a in command),
                  f"hat-server: {probe} asks another port than the gRPC one")
            ca = [a.split("=", 1)[1] for a in command if a.startswith("--tls-ca=")]
            check(ca and any(ca[0].startswith(m["mountPath"]) for m in c["volumeMounts"]),
                  f"hat-server: {probe}'s --tls-ca is not a mounted file")
        for flag in ("--tls-cert=", "--tls-key="):
            path = [a.split("=", 1)[1] for a in c["args"] if a.startswith(flag)]
            check(path and any(path[0].startswith(m["mountPath"]) for m in c["volumeMounts"]),
                  f"hat-server: {flag} is not a mounted file")
        check({e["name"] for e in c["env"]} >= {"HAT_FLEET_TOKEN", "HAT_ADMIN_TOKEN"},
              "hat-server: tokens do not come from the Secret")
for svc in services.values():
    selector = svc["spec"]["selector"]
    check(any(ss["spec"]["template"]["metadata"]["labels"].items() >= selector.items()
              for ss in server_sets), f"Service {svc['metadata']['name']} selects no pod")
    for p in svc["spec"]["ports"]:
        named = {cp["name"] for ss in server_sets for c in ss["spec"]["template"]["spec"]["containers"]
                 for cp in c["ports"]}
        check(p["targetPort"] in named,
              f"Service {svc['metadata']['name']}: targetPort {p['targetPort']} is no container port")
grpc_port = {p["name"]: p["port"] for p in services["hat-server"]["spec"]["ports"]}["grpc"]

# Agents: CPU Deployments, GPU DaemonSets; the class from the node label, the server's Service.
agents = [(d, False) for d in of_kind("Deployment")] + [(d, True) for d in of_kind("DaemonSet")]
check(any(gpu for _, gpu in agents) and any(not gpu for _, gpu in agents),
      "expected CPU agents (Deployment) and GPU agents (DaemonSet)")
for workload, gpu in agents:
    name = workload["metadata"]["name"]
    for c, info, pod, volumes, claims in pod_checks(workload):
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        node_class = pod.get("nodeSelector", {}).get("hatfleet.io/device-class")
        check(node_class and env.get("HAT_DEVICE_CLASS") == node_class,
              f"{name}: HAT_DEVICE_CLASS {env.get('HAT_DEVICE_CLASS')} != node label {node_class}")
        check(env.get("HAT_SERVER") == f"hat-server:{grpc_port}",
              f"{name}: HAT_SERVER {env.get('HAT_SERVER')} is not the hat-server Service")
        check("HAT_FLEET_TOKEN" in env, f"{name}: no fleet token")
        for var in ("HAT_SERVER", "HAT_DEVICE_CLASS", "HAT_AGENT_FLAGS"):
            check(var in info["env"], f"{name}: the image does not read {var}")
        sys_mounts = [m for m in c["volumeMounts"] if m["mountPath"] == "/host/sys"]
        check(sys_mounts and sys_mounts[0].get("readOnly") and
              volumes[sys_mounts[0]["name"]].get("hostPath", {}).get("path") == "/sys",
              f"{name}: the node's /sys is not mounted read-only at /host/sys")
        limits = c.get("resources", {}).get("limits", {})
        if gpu:
            check(limits.get("nvidia.com/gpu") == 1, f"{name}: a GPU agent must take one GPU")
            check("--device=cuda" in env.get("HAT_AGENT_FLAGS", ""), f"{name}: not --device=cuda")
            check(c["image"].startswith("hatfleet/hat-agent-cuda:"), f"{name}: not the CUDA image")
        else:
            check(c["image"].startswith("hatfleet/hat-agent:"), f"{name}: not the CPU image")
            requests = c.get("resources", {}).get("requests", {})
            check(requests.get("cpu") == limits.get("cpu") and str(limits.get("cpu", "")).isdigit(),
                  f"{name}: whole CPUs with requests == limits (dedicated cores) expected")

# Data-parallel SuperTransformer training: an indexed Job of hatctl ranks (jobs/, run on demand).
job_docs = load(K8S / "jobs/supernet-train.yaml")
job = next((d for d in job_docs if d.get("kind") == "Job"), None)
headless = next((d for d in job_docs if d.get("kind") == "Service"), None)
if check(job is not None and headless is not None, "jobs/supernet-train.yaml: a Job and a Service"):
    for d in job_docs:
        check(d.get("metadata", {}).get("namespace") == "hatfleet",
              f"jobs/supernet-train.yaml: {d['kind']} is not in namespace hatfleet")
    name, spec = job["metadata"]["name"], job["spec"]
    pod = spec["template"]["spec"]
    c = pod["containers"][0]
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    check(spec.get("completionMode") == "Indexed", f"{name}: not an indexed Job (no pod index rank)")
    check(spec.get("completions") == spec.get("parallelism") == int(env.get("WORLD_SIZE", -1)),
          f"{name}: completions, parallelism and WORLD_SIZE differ: every rank runs at once")
    check(headless["spec"].get("clusterIP") == "None" and
          pod.get("subdomain") == headless["metadata"]["name"],
          f"{name}: pods are not named by a headless Service (subdomain)")
    check(headless["spec"]["selector"] == {"job-name": name}, f"{name}: the Service selects no rank")
    check(env.get("MASTER_ADDR") == f"{name}-0.{headless['metadata']['name']}",
          f"{name}: MASTER_ADDR {env.get('MASTER_ADDR')} is not rank 0's pod")
    rendezvous = {p["name"]: p["containerPort"] for p in c.get("ports", [])}.get("rendezvous")
    check(str(rendezvous) == env.get("MASTER_PORT") and
          [p["port"] for p in headless["spec"]["ports"]] == [rendezvous],
          f"{name}: MASTER_PORT, the container port and the Service port differ")
    check(c["image"] == f"hatfleet/hat-server:{version}", f"{name}: not the server image (hatctl)")
    context = pod.get("securityContext", {})
    check(context.get("runAsNonRoot") is True and context.get("runAsUser") == uid,
          f"{name}: pods must run as non-root uid {uid}")
    script = " ".join(c.get("args", []))
    check("hatctl supernet train" in script and "hatctl supernet upload" in script,
          f"{name}: the ranks do not train and upload with hatctl")
    check(f"--server hat-server:{grpc_port}" in script, f"{name}: uploads elsewhere than hat-server")
    volumes = {v["name"] for v in pod.get("volumes", [])}
    for m in c.get("volumeMounts", []):
        check(m["name"] in volumes, f"{name}: mount {m['name']} names no volume")
    for e in c.get("env", []):
        ref = e.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            check(ref["key"] in secrets.get(ref["name"], set()),
                  f"{name}: env {e['name']} reads {ref['name']}/{ref['key']}, not in the example")

# The agent images' entry point: hat-agent's flags from the environment, the host's /sys when
# mounted, and a clear refusal without a device class.
with tempfile.TemporaryDirectory() as tmp:
    fake = pathlib.Path(tmp, "hat-agent")
    fake.write_text('#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n')
    fake.chmod(0o755)
    (pathlib.Path(tmp, "sys", "class")).mkdir(parents=True)
    env = dict(os.environ, HAT_AGENT_BIN=str(fake), HAT_SERVER="hat-server:7070",
               HAT_DEVICE_CLASS="xeon-e5", HAT_AGENT_FLAGS="--threads=2 --device=cpu",
               HAT_SYSFS_ROOT=str(pathlib.Path(tmp, "sys")))
    entry = str(DOCKER / "agent-entrypoint.sh")
    run = subprocess.run([entry], env=env, capture_output=True, text=True)
    check(run.returncode == 0 and run.stdout.split() == [
        "--threads=2", "--device=cpu", "--server=hat-server:7070", "--device-class=xeon-e5",
        f"--sysfs-root={tmp}/sys"], f"agent-entrypoint.sh ran: {run.stdout!r} {run.stderr!r}")
    env["HAT_SYSFS_ROOT"] = str(pathlib.Path(tmp, "absent"))
    run = subprocess.run([entry], env=env, capture_output=True, text=True)
    check("--sysfs-root=/sys" in run.stdout.split(), "without the host's /sys: not /sys")
    env["HAT_DEVICE_CLASS"] = ""
    run = subprocess.run([entry], env=env, capture_output=True, text=True)
    check(run.returncode == 2 and "set HAT_DEVICE_CLASS" in run.stderr,
          f"no device class: {run.returncode} {run.stderr!r}")

if failures:
    for f in failures:
        print("FAIL:", f)
    sys.exit(1)
print(f"PASS: {sum(len(d) for d in docs.values())} documents in {len(docs)} files, "
      f"{len(images)} Dockerfiles")
