"""Times the official Python SDK (peak-sdk 1.29.0) listing every spec of a server.

Usage: python sdk_listing.py BASE_URL PAGE_SIZE
Prints one JSON line: {"items": N, "seconds": S}. Session creation is not timed.
"""

import json
import sys
import time

BASE = sys.argv[1].rstrip("/")
PAGE_SIZE = int(sys.argv[2])

import peak.helpers  # noqa: E402
import peak.session  # noqa: E402
import peak.telemetry  # noqa: E402


def local_domain(stage, subdomain="service"):
    return BASE


for module in (peak.helpers, peak.session, peak.telemetry):
    module.get_base_domain = local_domain

from peak.press import apps  # noqa: E402
from peak.session import Session  # noqa: E402

client = apps.get_client(session=Session(auth_token="bench", stage="prod"))
started = time.perf_counter()
items = sum(1 for _ in client.list_specs(page_size=PAGE_SIZE))
seconds = time.perf_counter() - started
print(json.dumps({"items": items, "seconds": seconds}))
