// Calls every one of the 17 operations through openapi-fetch, typed by openapi-typescript from the
// published document, against an emulator: each once as it succeeds and once as it fails. `tsc`
// in strict mode checks every path, parameter and body against the document's types first, so a
// change to the document that would break TypeScript users fails here.
//
// Usage (after `.ci/clients` generated press-apps.d.ts beside it and compiled it):
//   node every_operation.js BASE_URL
// The emulator must accept any token and have a deploy delay of zero. Prints "N passed, 0 failed"
// and exits non-zero at the first failed check.

import createClient from "openapi-fetch";
import type { components, paths } from "./press-apps.js";

type Schemas = components["schemas"];

const base = (process.argv[2] ?? "").replace(/\/$/, "");
const client = createClient<paths>({ baseUrl: base, headers: { Authorization: "generated-typescript" } });
let passed = 0;

function check(condition: boolean, what: string): asserts condition {
  if (!condition) {
    console.log(`FAILED: ${what}`);
    console.log(`${passed} passed, 1 failed`);
    process.exit(1);
  }
  passed += 1;
}

type Answer<T> = { data?: T; error?: Schemas["Error"]; response: Response };

async function succeeds<T>(call: Promise<Answer<T>>, status: number, what: string): Promise<T> {
  const { data, error, response } = await call;
  check(response.status === status, `${what}: ${response.status} ${JSON.stringify(error)}`);
  check(data !== undefined, `${what}: no body`);
  return data;
}

async function fails(call: Promise<Answer<unknown>>, status: number, what: string): Promise<void> {
  const { error, response } = await call;
  check(response.status === status, `${what}: ${response.status}`);
  check(error !== undefined && Boolean(error.detail ?? error.message), `${what}: the error says why`);
}

function newSpec(name: string): Schemas["CreateSpecRequest"] {
  const spec: Schemas["NewSpec"] = {
    version: 1,
    kind: "app",
    metadata: { name, summary: "Made by the generated TypeScript client" },
    release: { version: "1.0.0" },
    config: [{ id: "block-spec", release: { version: "1.0.0" } }],
  };
  const parameters: Schemas["ParameterDefinitions"] = {
    build: [],
    run: [{ name: "replicas", type: "number", required: false }],
  };
  return { spec: JSON.stringify(spec), featured: "false", scope: null, parameters: JSON.stringify(parameters) };
}

async function main(): Promise<void> {
  const specs = "/v1/apps/specs/";
  const created = await succeeds(client.POST(specs, { body: newSpec("ts-spec") }), 201, "create_spec");
  const specId = created.id;
  await fails(client.POST(specs, { body: newSpec("ts-spec") }), 409, "create_spec with a taken name");

  const spec = { params: { path: { specId } } };
  const none = { params: { path: { specId: "no-such-spec" } } };
  const described = await succeeds(client.GET("/v1/apps/specs/{specId}", spec), 200, "describe_spec");
  check(described.metadata.name === "ts-spec", "the spec as created");
  await fails(client.GET("/v1/apps/specs/{specId}", none), 404, "describe_spec of nothing");

  const page = await succeeds(
    client.GET(specs, { params: { query: { status: ["available", "unavailable"], sort: ["name"] } } }),
    200,
    "list_specs",
  );
  check(page.specCount === 1 && page.specs[0]?.id === specId, "list_specs counts the spec");
  // Off the document on purpose, and marked so for the validating proxy of .ci/clients.
  const deliberate = { "x-deliberately-invalid": "true" };
  await fails(
    client.GET(specs, { params: { query: { pageSize: 5000 } }, headers: deliberate }),
    400,
    "list_specs with too large a page",
  );

  const update = { metadata: { summary: "Updated" } };
  const updated = await succeeds(client.PATCH("/v1/apps/specs/{specId}", { ...spec, body: update }), 200, "update_spec_metadata");
  check(updated.metadata.summary === "Updated", "the update is kept");
  await fails(client.PATCH("/v1/apps/specs/{specId}", { ...none, body: update }), 404, "update_spec_metadata of nothing");

  const releases = "/v1/apps/specs/{specId}/releases";
  const release: Schemas["NewRelease"] = { release: { version: "1.1.0", notes: "Faster" }, config: [], parameters: null };
  await succeeds(client.POST(releases, { ...spec, body: release }), 201, "create_spec_release");
  await fails(client.POST(releases, { ...spec, body: release }), 409, "create_spec_release again");

  const oneRelease = "/v1/apps/specs/{specId}/releases/{version}";
  const describedRelease = await succeeds(
    client.GET(oneRelease, { params: { path: { specId, version: "1.1.0" } } }),
    200,
    "describe_spec_release",
  );
  check(describedRelease.notes === "Faster", "the release as created");
  await fails(client.GET(oneRelease, { params: { path: { specId, version: "9.9.9" } } }), 404, "describe_spec_release of nothing");

  const releasePage = await succeeds(client.GET(releases, spec), 200, "list_spec_releases");
  check(releasePage.releaseCount === 2, "both releases are listed");
  await fails(client.GET(releases, none), 404, "list_spec_releases of nothing");

  const deployments = "/v1/apps/deployments/";
  const deployment: Schemas["NewDeployment"] = {
    metadata: { name: "ts-deployment", summary: "Deployed by the generated client" },
    revision: { notes: "first" },
    spec: { id: specId, release: { version: "1.0.0" } },
  };
  const createdDeployment = await succeeds(client.POST(deployments, { body: deployment }), 201, "create_deployment");
  const deploymentId = createdDeployment.id;
  await fails(
    client.POST(deployments, { body: { ...deployment, spec: { id: "no-such-spec" } } }),
    404,
    "create_deployment of no spec",
  );

  const deploymentPage = await succeeds(client.GET(deployments, {}), 200, "list_deployments");
  check(deploymentPage.deploymentCount === 1, "list_deployments counts the deployment");
  await fails(
    client.GET(deployments, { params: { query: { pageNumber: 0 } }, headers: deliberate }),
    400,
    "list_deployments of page 0",
  );

  const one = "/v1/apps/deployments/{deploymentId}";
  const target = { params: { path: { deploymentId } } };
  const nothing = { params: { path: { deploymentId: "no-such-deployment" } } };
  const describedDeployment = await succeeds(client.GET(one, target), 200, "describe_deployment");
  check(describedDeployment.metadata.status === "deployed", "deployed at once with no deploy delay");
  await fails(client.GET(one, nothing), 404, "describe_deployment of nothing");

  const rename: Schemas["DeploymentMetadataUpdate"] = { title: "Renamed" };
  await succeeds(client.PATCH(one, { ...target, body: rename }), 200, "update_deployment_metadata");
  await fails(client.PATCH(one, { ...nothing, body: rename }), 404, "update_deployment_metadata of nothing");

  const revisions = "/v1/apps/deployments/{deploymentId}/revisions";
  const revision: Schemas["NewRevision"] = { release: { version: "1.1.0" }, revision: { notes: "second" } };
  const createdRevision = await succeeds(client.POST(revisions, { ...target, body: revision }), 201, "create_deployment_revision");
  check(createdRevision.revision === 2, "revision 2");
  await fails(client.POST(revisions, { ...nothing, body: revision }), 404, "create_deployment_revision of nothing");

  const oneRevision = "/v1/apps/deployments/{deploymentId}/revisions/{revision}";
  const describedRevision = await succeeds(
    client.GET(oneRevision, { params: { path: { deploymentId, revision: 2 } } }),
    200,
    "describe_deployment_revision",
  );
  check(describedRevision.revision === 2, "the revision as created");
  await fails(client.GET(oneRevision, { params: { path: { deploymentId, revision: 99 } } }), 404, "describe_deployment_revision of nothing");

  const revisionPage = await succeeds(client.GET(revisions, target), 200, "list_deployment_revisions");
  check(revisionPage.revisionCount === 2, "both revisions are listed");
  await fails(client.GET(revisions, nothing), 404, "list_deployment_revisions of nothing");

  const again = "/v1/apps/deployments/{deploymentId}/redeploy";
  await fails(client.POST(again, target), 409, "redeploy of a deployed deployment");
  // The emulator's control route (not in the document) fails the deployment, so that it can be redeployed.
  const failed = await fetch(`${base}/_emulator/deployments/${deploymentId}/status`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ status: "failed" }),
  });
  check(failed.ok, "the control route fails the deployment");
  const redeployed = await succeeds(client.POST(again, target), 200, "redeploy");
  check(redeployed.deploymentId === deploymentId, "the deployment redeployed");

  await fails(client.DELETE("/v1/apps/specs/{specId}", spec), 409, "delete_spec of a spec with a deployment");
  await succeeds(client.DELETE(one, target), 200, "delete_deployment");
  await fails(client.DELETE(one, nothing), 404, "delete_deployment of nothing");
  await succeeds(client.DELETE("/v1/apps/specs/{specId}", spec), 200, "delete_spec");
  await fails(client.DELETE("/v1/apps/specs/{specId}", spec), 404, "delete_spec again");

  console.log(`${passed} passed, 0 failed`);
}

main().catch((error: unknown) => {
  console.log(`FAILED: ${String(error)}`);
  process.exit(1);
});
