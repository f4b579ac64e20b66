"""Runs the official `peak` CLI (peak-sdk 1.29.0) on the six sample files its own `--generate`
prints, unchanged but for the ids they must name, against an emulator, and checks the state they
create.

Usage: python cli_samples.py BASE_URL
The emulator must accept any token and have a deploy delay of zero. Prints "N passed, 0 failed"
and exits non-zero at the first failed check.
"""

import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile

import requests

BASE = sys.argv[1].rstrip("/")
CLI = str(pathlib.Path(__file__).with_name("peak_cli.py"))
ENV = {**os.environ, "PEAK_AUTH_TOKEN": "cli-samples", "COLUMNS": "400"}
signal.alarm(300)  # never hang CI
CHECKS = {"passed": 0}


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}")
        print(f"{CHECKS['passed']} passed, 1 failed")
        sys.exit(1)
    CHECKS["passed"] += 1


def peak(*args):
    """Runs `peak apps ARGS...`; returns its exit code, stdout and stderr."""
    done = subprocess.run([sys.executable, CLI, BASE, "apps", *args], env=ENV, capture_output=True, text=True)
    return done.returncode, done.stdout, done.stderr


def sample(command):
    code, out, err = peak(*command.split(), "--generate")
    check(code == 0, f"{command} --generate: {err[-500:]}")
    return out


def run(command, text, *args):
    """Writes `text` to a file and runs `command` on it; returns the JSON it prints."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as file:
        file.write(text)
    code, out, err = peak(*command.split(), *args, file.name)
    check(code == 0, f"{command} on its own sample: {err[-800:]}")
    return json.loads(out)


def get(path):
    response = requests.get(BASE + path, headers={"Authorization": "cli-samples"}, timeout=10)
    check(response.status_code == 200, f"GET {path}: {response.status_code} {response.text[:300]}")
    return response.json()


spec_sample = sample("specs create")
spec_id = run("specs create", spec_sample)["id"]
spec = get(f"/v1/apps/specs/{spec_id}")
check(spec["metadata"]["name"] == "example-app", "the spec sample's name")
check(spec["scope"] == "shared" and spec["tenants"] == ["tenant1", "tenant2"], "shared with two tenants")
release = get(f"/v1/apps/specs/{spec_id}/releases/1.0.0")
conditional = [p for p in release["parameters"]["run"] if p.get("conditions")]
check(len(conditional) == 2 and all("defaultValue" not in p for p in conditional), "conditional parameters, no default")

run("specs create-release", sample("specs create-release"), spec_id)
check(get(f"/v1/apps/specs/{spec_id}")["latestRelease"]["version"] == "2.0.0", "the release sample's version")

updated = run("specs update-metadata", sample("specs update-metadata"), spec_id)
check(updated["scope"] == "private" and updated["tenants"] == [], "leaving the shared scope drops the tenants")

deployment_sample = sample("deployments create")
named_id = deployment_sample.split("spec:\n", 1)[1].split("id: ", 1)[1].split()[0]
deployment_id = run("deployments create", deployment_sample.replace(named_id, spec_id))["id"]
deployment = get(f"/v1/apps/deployments/{deployment_id}")
check(deployment["metadata"]["name"] == "app-deployment", "the deployment sample's name")

revision = run("deployments create-revision", sample("deployments create-revision"), deployment_id)
check(revision["revision"] == 2, "the revision sample makes revision 2")
check(get(f"/v1/apps/deployments/{deployment_id}/revisions/2")["spec"]["release"]["version"] == "2.0.0", "at 2.0.0")

renamed = run("deployments update-metadata", sample("deployments update-metadata"), deployment_id)
check(renamed["metadata"]["name"] == "update-block-deployment", "the deployment metadata sample's name")

# The list filters as the CLI sends them: one comma-joined value.
code, out, err = peak("specs", "list", "--status", "available,unavailable", "--scope", "private,public")
check(code == 0, f"specs list with comma-joined filters: {err[-500:]}")
check(json.loads(out)["specCount"] == 1, "the one spec is listed")
code, out, err = peak("specs", "list", "--sort", "name:asc,title")
check(code == 0, f"specs list sorted by a bare field: {err[-500:]}")

print(f"{CHECKS['passed']} passed, 0 failed")
