//! The status server: `/` a page that lists every resource with its health, sync state, last
//! change and last error, and the last rounds (no external assets; it refreshes itself from
//! `/status`); `/status` the same as JSON; `/metrics` for Prometheus; `/healthz` and `/readyz`.

use axum::{
    Json, Router,
    extract::State,
    http::{StatusCode, header},
    response::{Html, IntoResponse},
    routing::get,
};

use crate::controller::Handle;

/// The routes, over the loop's `handle`; serve them with `axum::serve`.
pub fn router(handle: Handle) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/status", get(|State(handle): State<Handle>| async move { Json(handle.status()) }))
        .route(
            "/metrics",
            get(|State(handle): State<Handle>| async move {
                let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
                ([(header::CONTENT_TYPE, content_type)], handle.metrics())
            }),
        )
        .route("/healthz", get(|| async { "alive\n" }))
        .route(
            "/readyz",
            get(|State(handle): State<Handle>| async move {
                if handle.status().ready {
                    (StatusCode::OK, "ready\n").into_response()
                } else {
                    (StatusCode::SERVICE_UNAVAILABLE, "no round has completed yet\n").into_response()
                }
            }),
        )
        .with_state(handle)
}

/// The status page: plain HTML and a script that renders `/status` every few seconds.
const PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>press-apps watch</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { text-align: left; padding: 0.3em 0.8em; border-bottom: 1px solid #ddd; }
.Healthy { color: #17752e; } .Progressing { color: #1f5fbf; } .Degraded { color: #b3261e; font-weight: bold; }
.Missing { color: #8a5a00; } .Unknown { color: #666; } .OutOfSync { color: #8a5a00; }
#error { color: #b3261e; }
</style>
</head>
<body>
<h1>press-apps watch: <span id="health">…</span></h1>
<p id="error"></p>
<h2>Resources</h2>
<table id="resources"><thead><tr><th>Kind</th><th>Name</th><th>Health</th><th>Sync</th><th>Last change</th><th>Last error</th></tr></thead><tbody></tbody></table>
<h2>Last rounds</h2>
<table id="rounds"><thead><tr><th>Started</th><th>Duration</th><th>Result</th><th>Writes</th><th>Drift</th><th>Note</th></tr></thead><tbody></tbody></table>
<script>
function cell(row, text, klass) {
  const td = row.insertCell();
  td.textContent = text === undefined || text === null ? "" : String(text);
  if (klass) td.className = klass;
}
async function refresh() {
  try {
    const status = await (await fetch("status")).json();
    const health = document.getElementById("health");
    health.textContent = status.ready ? status.health : "waiting for the first round";
    health.className = status.health;
    const resources = document.querySelector("#resources tbody");
    resources.replaceChildren();
    for (const r of status.resources) {
      const row = resources.insertRow();
      row.dataset.name = r.name;
      cell(row, r.kind); cell(row, r.name); cell(row, r.health, r.health); cell(row, r.sync, r.sync);
      cell(row, r.lastChange); cell(row, r.lastError);
    }
    const rounds = document.querySelector("#rounds tbody");
    rounds.replaceChildren();
    for (const round of status.rounds) {
      const row = rounds.insertRow();
      cell(row, round.started); cell(row, round.durationMs + " ms"); cell(row, round.result);
      cell(row, round.writes); cell(row, round.drift); cell(row, round.error);
    }
    document.getElementById("error").textContent = "";
  } catch (error) {
    document.getElementById("error").textContent = "cannot read the status: " + error;
  }
}
refresh();
setInterval(refresh, 5000);
</script>
</body>
</html>
"##;
