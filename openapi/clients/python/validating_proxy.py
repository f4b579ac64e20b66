"""A proxy that checks traffic against the published document as another tool reads it.

Usage: python validating_proxy.py DOCUMENT UPSTREAM_URL REPORT_FILE
It listens on 127.0.0.1 (a free port), prints its URL on the first line of stdout, and forwards
every request to UPSTREAM_URL unchanged. Each request and answer on /v1/apps is validated with
openapi-core, an OpenAPI 3.0 validator independent of this project's Rust tools; whatever it
refuses is written to REPORT_FILE, one line each, as it happens. The calls outside the document
(the official SDK's tenant-metadata and telemetry routes, the emulator's control route) pass
through unchecked, and so does a request marked `x-deliberately-invalid: true` (sent off the
document on purpose, to see the error it gets), though its answer is checked.
"""

import http.server
import json
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

DOCUMENT, UPSTREAM, REPORT = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3]

with open(DOCUMENT) as file:
    document = json.load(file)
# The document names the service's stages; here the upstream stands in for them.
document["servers"] = [{"url": UPSTREAM}]
openapi = OpenAPI.from_dict(document)
DELIBERATE = "x-deliberately-invalid"
report_lock = threading.Lock()


class Request:
    """A request as openapi-core reads one."""

    def __init__(self, method, target, headers, body):
        url = urllib.parse.urlsplit(target)
        self.host_url = UPSTREAM
        self.path = url.path
        self.method = method.lower()
        self.body = body or None
        self.content_type = headers.get("content-type", "")
        query = ImmutableMultiDict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        self.parameters = RequestParameters(query=query, header=Headers(list(headers.items())))


class Response:
    """An answer as openapi-core reads one."""

    def __init__(self, status, headers, data):
        self.status_code = status
        self.headers = Headers(list(headers.items()))
        self.content_type = headers.get("content-type", "")
        self.data = data


def note(what, request, error):
    causes = []
    cause = error
    while cause is not None:
        causes.append(str(cause).splitlines()[0][:300])
        cause = getattr(cause, "__cause__", None) or next(iter(getattr(cause, "schema_errors", []) or []), None)
    with report_lock, open(REPORT, "a") as file:
        file.write(f"{what} {request.method.upper()} {request.path}: {' <- '.join(causes)}\n")


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        checked = urllib.parse.urlsplit(self.path).path.startswith("/v1/apps")
        request = Request(self.command, self.path, headers, body)
        # A request sent off the document on purpose, to see the error it gets; its answer is
        # still checked.
        if checked and headers.get(DELIBERATE) != "true":
            try:
                openapi.validate_request(request)
            except Exception as error:  # noqa: BLE001 - every refusal is reported, whatever its class
                note("request", request, error)
        upstream = urllib.request.Request(UPSTREAM + self.path, data=body or None, method=self.command, headers=headers)
        try:
            with urllib.request.urlopen(upstream, timeout=30) as answer:
                status, answer_headers, data = answer.status, dict(answer.headers.items()), answer.read()
        except urllib.error.HTTPError as answer:
            status, answer_headers, data = answer.code, dict(answer.headers.items()), answer.read()
        answer_headers = {k.lower(): v for k, v in answer_headers.items()}
        if checked:
            try:
                openapi.validate_response(request, Response(status, answer_headers, data))
            except Exception as error:  # noqa: BLE001
                note(f"answer {status} to", request, error)
        self.send_response(status)
        for name, value in answer_headers.items():
            if name not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(name, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = forward


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
