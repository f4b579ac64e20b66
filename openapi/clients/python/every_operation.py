"""Calls every one of the 17 operations through a Python client generated from the published
document by openapi-python-client, against an emulator: each once as it succeeds and once as it
fails, with the answer decoded into the generated types (`Error` for failures).

Usage: python every_operation.py GENERATED_DIR BASE_URL
GENERATED_DIR holds the package `press_apps_client` that `.ci/clients` generates. The emulator
must accept any token and have a deploy delay of zero. Prints "N passed, 0 failed"; exits
non-zero at the first failed check.
"""

import json
import signal
import sys

import httpx

sys.path.insert(0, sys.argv[1])
BASE = sys.argv[2].rstrip("/")
signal.alarm(120)  # never hang CI

from press_apps_client import Client  # noqa: E402
from press_apps_client.api.deployments import (  # noqa: E402
    create_deployment,
    create_deployment_revision,
    delete_deployment,
    describe_deployment,
    describe_deployment_revision,
    list_deployment_revisions,
    list_deployments,
    redeploy,
    update_deployment_metadata,
)
from press_apps_client.api.specs import (  # noqa: E402
    create_spec,
    create_spec_release,
    delete_spec,
    describe_spec,
    describe_spec_release,
    list_spec_releases,
    list_specs,
    update_spec_metadata,
)
from press_apps_client.models import (  # noqa: E402
    BlockConfig,
    CreatedId,
    CreatedRelease,
    CreatedRevision,
    CreateSpecRequest,
    CreateSpecRequestFeatured,
    Deployment,
    DeploymentMetadataUpdate,
    DeploymentPage,
    DeploymentSpecRef,
    Empty,
    Error,
    NewDeployment,
    NewDeploymentMetadata,
    NewRelease,
    NewRevision,
    NewSpec,
    NewSpecMetadata,
    ParameterDefinition,
    ParameterDefinitions,
    ParameterType,
    Redeployment,
    Release,
    ReleaseInput,
    ReleasePage,
    Revision,
    RevisionInput,
    RevisionPage,
    Spec,
    SpecMetadataUpdate,
    SpecPage,
    SpecSortKey,
    SpecStatus,
    SpecUpdate,
    VersionRef,
)

CHECKS = {"passed": 0}
client = Client(base_url=BASE, headers={"Authorization": "generated-python"})


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}")
        print(f"{CHECKS['passed']} passed, 1 failed")
        sys.exit(1)
    CHECKS["passed"] += 1


def succeeds(response, status, kind, what):
    check(response.status_code == status, f"{what}: {response.status_code} {response.content[:300]!r}")
    check(isinstance(response.parsed, kind), f"{what}: decoded as {type(response.parsed).__name__}")
    return response.parsed


def fails(response, status, what):
    check(response.status_code == status, f"{what}: {response.status_code} {response.content[:300]!r}")
    check(isinstance(response.parsed, Error), f"{what}: the error decoded as {type(response.parsed).__name__}")
    check(bool(response.parsed.detail), f"{what}: the error says why")


def new_spec(name):
    spec = NewSpec(
        metadata=NewSpecMetadata(name=name, summary="Made by the generated Python client"),
        release=ReleaseInput(version="1.0.0"),
        config=[BlockConfig(id="block-spec", release=VersionRef(version="1.0.0"))],
    )
    parameters = ParameterDefinitions(
        build=[], run=[ParameterDefinition(name="replicas", type_=ParameterType.NUMBER, required=False)]
    )
    return CreateSpecRequest(
        spec=json.dumps(spec.to_dict()),
        featured=CreateSpecRequestFeatured.FALSE,
        scope=None,
        parameters=json.dumps(parameters.to_dict()),
    )


created = succeeds(create_spec.sync_detailed(client=client, body=new_spec("py-spec")), 201, CreatedId, "create_spec")
spec_id = created.id
fails(create_spec.sync_detailed(client=client, body=new_spec("py-spec")), 409, "create_spec with a taken name")

spec = succeeds(describe_spec.sync_detailed(spec_id, client=client), 200, Spec, "describe_spec")
check(spec.metadata.name == "py-spec", "the spec as created")
fails(describe_spec.sync_detailed("no-such-spec", client=client), 404, "describe_spec of nothing")

page = succeeds(
    list_specs.sync_detailed(client=client, status=[SpecStatus.AVAILABLE], sort=[SpecSortKey.NAME]),
    200,
    SpecPage,
    "list_specs",
)
check(page.spec_count == 1 and page.specs[0].id == spec_id, "list_specs counts the spec")
# Off the document on purpose, and marked so for the validating proxy of .ci/clients.
deliberate = client.with_headers({"x-deliberately-invalid": "true"})
fails(list_specs.sync_detailed(client=deliberate, page_size=5000), 400, "list_specs with too large a page")

update = SpecUpdate(metadata=SpecMetadataUpdate(summary="Updated"))
spec = succeeds(update_spec_metadata.sync_detailed(spec_id, client=client, body=update), 200, Spec, "update_spec_metadata")
check(spec.metadata.summary == "Updated", "the update is kept")
fails(update_spec_metadata.sync_detailed("no-such-spec", client=client, body=update), 404, "update_spec_metadata of nothing")

release = NewRelease(release=ReleaseInput(version="1.1.0", notes="Faster"), config=[], parameters=None)
succeeds(create_spec_release.sync_detailed(spec_id, client=client, body=release), 201, CreatedRelease, "create_spec_release")
fails(create_spec_release.sync_detailed(spec_id, client=client, body=release), 409, "create_spec_release again")

release = succeeds(describe_spec_release.sync_detailed(spec_id, "1.1.0", client=client), 200, Release, "describe_spec_release")
check(release.notes == "Faster", "the release as created")
fails(describe_spec_release.sync_detailed(spec_id, "9.9.9", client=client), 404, "describe_spec_release of nothing")

releases = succeeds(list_spec_releases.sync_detailed(spec_id, client=client), 200, ReleasePage, "list_spec_releases")
check(releases.release_count == 2, "both releases are listed")
fails(list_spec_releases.sync_detailed("no-such-spec", client=client), 404, "list_spec_releases of nothing")

deployment = NewDeployment(
    metadata=NewDeploymentMetadata(name="py-deployment", summary="Deployed by the generated client"),
    revision=RevisionInput(notes="first"),
    spec=DeploymentSpecRef(id=spec_id, release=VersionRef(version="1.0.0")),
)
created = succeeds(create_deployment.sync_detailed(client=client, body=deployment), 201, CreatedId, "create_deployment")
deployment_id = created.id
deployment.spec = DeploymentSpecRef(id="no-such-spec")
fails(create_deployment.sync_detailed(client=client, body=deployment), 404, "create_deployment of no spec")

deployments = succeeds(list_deployments.sync_detailed(client=client), 200, DeploymentPage, "list_deployments")
check(deployments.deployment_count == 1, "list_deployments counts the deployment")
fails(list_deployments.sync_detailed(client=deliberate, page_number=0), 400, "list_deployments of page 0")

described = succeeds(describe_deployment.sync_detailed(deployment_id, client=client), 200, Deployment, "describe_deployment")
check(described.metadata.status == "deployed", "deployed at once with no deploy delay")
fails(describe_deployment.sync_detailed("no-such-deployment", client=client), 404, "describe_deployment of nothing")

rename = DeploymentMetadataUpdate(title="Renamed")
succeeds(
    update_deployment_metadata.sync_detailed(deployment_id, client=client, body=rename),
    200,
    Deployment,
    "update_deployment_metadata",
)
fails(
    update_deployment_metadata.sync_detailed("no-such-deployment", client=client, body=rename),
    404,
    "update_deployment_metadata of nothing",
)

revision = NewRevision(release=VersionRef(version="1.1.0"), revision=RevisionInput(notes="second"))
created = succeeds(
    create_deployment_revision.sync_detailed(deployment_id, client=client, body=revision),
    201,
    CreatedRevision,
    "create_deployment_revision",
)
check(created.revision == 2, "revision 2")
fails(
    create_deployment_revision.sync_detailed("no-such-deployment", client=client, body=revision),
    404,
    "create_deployment_revision of nothing",
)

revision = succeeds(
    describe_deployment_revision.sync_detailed(deployment_id, 2, client=client),
    200,
    Revision,
    "describe_deployment_revision",
)
check(revision.revision == 2, "the revision as created")
fails(describe_deployment_revision.sync_detailed(deployment_id, 99, client=client), 404, "describe_deployment_revision of nothing")

revisions = succeeds(
    list_deployment_revisions.sync_detailed(deployment_id, client=client), 200, RevisionPage, "list_deployment_revisions"
)
check(revisions.revision_count == 2, "both revisions are listed")
fails(list_deployment_revisions.sync_detailed("no-such-deployment", client=client), 404, "list_deployment_revisions of nothing")

fails(redeploy.sync_detailed(deployment_id, client=client), 409, "redeploy of a deployed deployment")
# The emulator's control route (not in the document) fails the deployment, so that it can be redeployed.
httpx.post(f"{BASE}/_emulator/deployments/{deployment_id}/status", json={"status": "failed"}).raise_for_status()
succeeds(redeploy.sync_detailed(deployment_id, client=client), 200, Redeployment, "redeploy")

fails(delete_spec.sync_detailed(spec_id, client=client), 409, "delete_spec of a spec with a deployment")
succeeds(delete_deployment.sync_detailed(deployment_id, client=client), 200, Empty, "delete_deployment")
fails(delete_deployment.sync_detailed("no-such-deployment", client=client), 404, "delete_deployment of nothing")
succeeds(delete_spec.sync_detailed(spec_id, client=client), 200, Empty, "delete_spec")
fails(delete_spec.sync_detailed(spec_id, client=client), 404, "delete_spec again")

print(f"{CHECKS['passed']} passed, 0 failed")
