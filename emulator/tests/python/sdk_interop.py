"""Drives the official Python SDK (peak-sdk 1.29.0) through all 17 App operations against an
emulator, its iterators (but the revisions one, broken in that SDK) and its error classes.

Usage: python sdk_interop.py BASE_URL
The emulator must accept the token "writer" and the read-only token "reader", with a deploy
delay of zero and the default 1 MiB body limit. Exits non-zero at the first failed check.
"""

import signal
import sys
import time
import uuid

import requests

BASE = sys.argv[1].rstrip("/")
signal.alarm(180)  # never hang CI

# The SDK has no base-URL setting: each module holds its own reference to get_base_domain.
import peak.helpers  # noqa: E402
import peak.session  # noqa: E402
import peak.telemetry  # noqa: E402


def local_domain(stage, subdomain="service"):
    return BASE


for module in (peak.helpers, peak.session, peak.telemetry):
    module.get_base_domain = local_domain

from peak import exceptions  # noqa: E402
from peak.press import apps  # noqa: E402
from peak.session import Session  # noqa: E402

CHECKS = {"passed": 0}


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    CHECKS["passed"] += 1


def expect(error_class, call, what):
    try:
        call()
    except error_class:
        CHECKS["passed"] += 1
        return
    except Exception as other:  # noqa: BLE001
        raise AssertionError(f"{what}: expected {error_class.__name__}, got {other!r}") from other
    raise AssertionError(f"{what}: expected {error_class.__name__}, got no error")


def client_for(token):
    return apps.get_client(session=Session(auth_token=token, stage="prod"))


client = client_for("writer")
suffix = uuid.uuid4().hex[:8]
name = f"interop-{suffix}"
parameters = {
    "build": [
        {"name": "region", "type": "string", "required": True, "defaultValue": "eu", "title": "Region",
         "description": "Where to build", "options": [{"title": "EU", "value": "eu"}], "hideValue": False},
    ],
    "run": [
        {"name": "api_key", "type": "string", "required": False, "defaultValue": "", "hideValue": True},
        {"name": "replicas", "type": "number", "required": False, "defaultValue": 1,
         "conditions": [{"conditionType": "AND", "conditions": [
             {"dependsOn": "api_key", "operator": "not-equals", "value": ""}]}]},
    ],
}
spec_body = {
    "version": 1,
    "kind": "app",
    "metadata": {"name": name, "title": "Interop", "summary": "An interop spec", "description": "d",
                 "descriptionContentType": "text/markdown", "imageUrl": "https://example.com/i.png",
                 "tags": [{"name": "interop"}]},
    "release": {"notes": "first", "version": "1.0.0"},
    "config": [{"id": "block-spec", "release": {"version": "1.0.0"}, "autoRunOnDeploy": True}],
}

# create_spec, describe_spec
spec_id = client.create_spec(body=spec_body, featured=True, scope="shared", tenants=["tenant-b"],
                             parameters=parameters)["id"]
described = client.describe_spec(spec_id)
check(described["metadata"]["name"] == name, "describe_spec returns the name")
check(described["featured"] is True and described["scope"] == "shared", "featured and scope as sent")
check(described["tenants"] == ["tenant-b"], "tenants as sent")
check(described["latestRelease"]["version"] == "1.0.0", "latest release")

# list_specs, as an iterator and as one page
listed = list(client.list_specs(status=["available"], featured=True, name="interop-", title="Inter",
                                sort=["name:asc", "createdAt:desc"], scope=["shared", "public"], page_size=1))
check([s["id"] for s in listed] == [spec_id], "list_specs iterator with every filter")
page = client.list_specs(page_size=5, page_number=1, return_iterator=False)
check(page["specCount"] == 1 and page["pageCount"] == 1 and page["pageSize"] == 5, "list_specs page")

# update_spec_metadata
updated = client.update_spec_metadata(spec_id, {"metadata": {"title": "Interop 2"}, "featured": False})
check(updated["metadata"]["title"] == "Interop 2" and updated["featured"] is False, "update_spec_metadata")
check(updated["metadata"]["summary"] == "An interop spec", "PATCH keeps other fields")

# create_spec_release, describe_spec_release, list_spec_releases
release = client.create_spec_release(
    spec_id, {"release": {"version": "1.1.0", "notes": "second"},
              "config": [{"id": "block-spec", "release": {"version": "1.0.0"}}]}, parameters=parameters)
check(release["release"]["version"] == "1.1.0", "create_spec_release")
described_release = client.describe_spec_release(spec_id, "1.1.0")
check(described_release["parameters"]["run"][0]["name"] == "api_key", "describe_spec_release parameters")
versions = [r["version"] for r in client.list_spec_releases(spec_id, sort=["createdAt:desc"], page_size=1)]
check(versions == ["1.1.0", "1.0.0"], f"list_spec_releases iterator: {versions}")
check(client.list_spec_releases(spec_id, return_iterator=False)["releaseCount"] == 2, "releases page")

# create_deployment, describe_deployment, list_deployments
deployment_id = client.create_deployment({
    "metadata": {"name": f"{name}-dep", "summary": "s", "title": "Dep", "tags": [{"name": "t"}]},
    "appParameters": {"build": {"region": "eu"}, "run": {"api_key": "hunter2", "replicas": 2}},
    "parameters": {"block-spec": {"build": {}, "run": {"threads": 4}}},
    "revision": {"notes": "first"},
    "spec": {"id": spec_id, "release": {"version": "1.0.0"}},
})["id"]
deployment = client.describe_deployment(deployment_id)
check(deployment["metadata"]["status"] == "deployed", f"deployed: {deployment['metadata']['status']}")
check(deployment["latestRevision"]["revision"] == 1, "first revision")
listed = list(client.list_deployments(status=["deployed"], name=name, sort=["createdAt:asc"], page_size=1))
check([d["id"] for d in listed] == [deployment_id], "list_deployments iterator")
check(client.list_deployments(return_iterator=False)["deploymentCount"] == 1, "deployments page")

# update_deployment_metadata
updated = client.update_deployment_metadata(deployment_id, {"title": "Dep 2", "description": "x"})
check(updated["metadata"]["title"] == "Dep 2" and updated["metadata"]["name"] == f"{name}-dep",
      "update_deployment_metadata")

# create_deployment_revision, describe_deployment_revision, list_deployment_revisions (one page:
# the SDK's revisions iterator reads the wrong key)
revision = client.create_deployment_revision(deployment_id, {
    "release": {"version": "1.1.0"}, "revision": {"notes": "second"},
    "appParameters": {"run": {"api_key": "s3cret"}},
})
check(revision["revision"] == 2, "create_deployment_revision numbers revisions")
described_revision = client.describe_deployment_revision(deployment_id, "2")
check(described_revision["parameters"]["run"]["api_key"] == "********", "hidden values are masked")
revisions = client.list_deployment_revisions(deployment_id, sort=["createdAt:desc"], status=["deployed", "superseded"],
                                             page_size=10, page_number=1, return_iterator=False)
check([r["revision"] for r in revisions["revisions"]] == [2, 1], "list_deployment_revisions page")
check([r["status"] for r in revisions["revisions"]] == ["deployed", "superseded"], "the older is superseded")

# redeploy: refused while deployed, accepted once failed
expect(exceptions.ConflictException, lambda: client.redeploy(deployment_id), "redeploy of a deployed deployment")
requests.post(f"{BASE}/_emulator/deployments/{deployment_id}/status", json={"status": "failed"}, timeout=10)
redeployed = client.redeploy(deployment_id)
check(redeployed["deploymentId"] == deployment_id and redeployed["revision"] == 2, "redeploy names the revision")

# error classes
expect(exceptions.NotFoundException, lambda: client.describe_spec("no-such-spec"), "404")
expect(exceptions.ConflictException, lambda: client.create_spec(body=spec_body), "409 on a taken name")
expect(exceptions.ConflictException, lambda: client.delete_spec(spec_id), "409 on a deployed spec")
expect(exceptions.BadRequestException,
       lambda: client.create_spec_release(spec_id, {"release": {"version": "v2", "notes": "n"}, "config": []}),
       "400 on a version that is not semver")
expect(exceptions.UnprocessableEntityException,
       lambda: client.create_deployment({"metadata": {"name": f"{name}-bad", "summary": "s"},
                                         "appParameters": {"run": {"replicas": "many"}},
                                         "revision": {"notes": "n"}, "spec": {"id": spec_id}}),
       "422 on a value of the wrong type")
expect(exceptions.UnauthorizedException, lambda: client_for("stranger").describe_spec(spec_id), "401")
reader = client_for("reader")
check(reader.describe_spec(spec_id)["id"] == spec_id, "a read-only token reads")
expect(exceptions.ForbiddenException, lambda: reader.delete_spec(spec_id), "403 for a read-only token")
huge = dict(spec_body, metadata=dict(spec_body["metadata"], name=f"{name}-huge", description="x" * (1024 * 1024 + 1)))
expect(exceptions.PayloadTooLargeException, lambda: client.create_spec(body=huge), "413 over the body limit")

# delete_deployment, delete_spec
check(client.delete_deployment(deployment_id) == {}, "delete_deployment")
expect(exceptions.NotFoundException, lambda: client.describe_deployment(deployment_id), "a deleted deployment")
check(client.delete_spec(spec_id) == {}, "delete_spec")
expect(exceptions.NotFoundException, lambda: client.describe_spec(spec_id), "a deleted spec")

time.sleep(0.2)  # let the SDK's telemetry thread finish its posts
print(f"python sdk interop: {CHECKS['passed']} passed, 0 failed")
