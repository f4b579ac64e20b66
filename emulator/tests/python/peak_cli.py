"""Runs the official `peak` CLI (peak-sdk 1.29.0) against a local server.

Usage: python peak_cli.py BASE_URL ARGS...   (for example: ... http://127.0.0.1:8080 apps specs list)
The CLI has no base-URL option: like the SDK, it is pointed at the server by replacing
get_base_domain in the modules that hold it, before the CLI module is imported.
"""

import os
import sys

BASE = sys.argv[1].rstrip("/")
os.environ.setdefault("COLUMNS", "400")  # wrapped samples and tables do not parse

import peak.helpers  # noqa: E402
import peak.session  # noqa: E402
import peak.telemetry  # noqa: E402


def local_domain(stage, subdomain="service"):
    return BASE


for module in (peak.helpers, peak.session, peak.telemetry):
    module.get_base_domain = local_domain

from peak.cli.cli import typer_app  # noqa: E402

sys.argv = ["peak", *sys.argv[2:]]
typer_app()
