"""Times the official Python SDK (peak-sdk 1.29.0) listing every spec of a server.

Usage: python sdk_listing.py BASE_URL PAGE_SIZE
PAGE_SIZE is a number, or "default" for the SDK's own (the service's 25).
Prints one JSON line: {"items": N, "seconds": S, "first_item_seconds": F}. Session creation is
not timed; the SDK's telemetry thread is switched off, so its side is its fastest.
"""

import json
import sys
import time

BASE = sys.argv[1].rstrip("/")
PAGE_SIZE = None if sys.argv[2] == "default" else int(sys.argv[2])

import peak.helpers  # noqa: E402
import peak.session  # noqa: E402
import peak.telemetry  # noqa: E402


def local_domain(stage, subdomain="service"):
    return BASE


for module in (peak.helpers, peak.session, peak.telemetry):
    module.get_base_domain = local_domain

from peak.press import apps  # noqa: E402
from peak.session import Session  # noqa: E402



class NoThread:
    """Stands in for the thread that posts telemetry after every call."""

    def __init__(self, *args, **kwargs):
        pass

    def start(self):
        pass


# Without its telemetry thread, the SDK does only the listing.
peak.telemetry.threading = type("NoThreading", (), {"Thread": NoThread})

client = apps.get_client(session=Session(auth_token="bench", stage="prod"))
arguments = {} if PAGE_SIZE is None else {"page_size": PAGE_SIZE}
started = time.perf_counter()
first = None
items = 0
for _ in client.list_specs(**arguments):
    if first is None:
        first = time.perf_counter() - started
    items += 1
seconds = time.perf_counter() - started
print(json.dumps({"items": items, "seconds": seconds, "first_item_seconds": first}))
