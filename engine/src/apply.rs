//! Carrying a plan out: specs first, then deployments, then what pruning deletes, each step with
//! independent resources concurrently. Every write is safe to repeat: a create that conflicts
//! means another apply made it, and after an answer that leaves unknown whether a write happened
//! (a 500, a 502, a cut connection) the resource is read again before the write is repeated.
//! A deployment whose spec failed is skipped, with the spec's failure as the cause.

use std::{
    collections::{HashMap, HashSet},
    future::Future,
    sync::Mutex,
};

use futures::{
    FutureExt, StreamExt, TryStreamExt,
    future::{BoxFuture, Shared},
    stream,
};
use peak_press_apps::{
    Client, Error, UnsentRequest,
    types::{NewDeployment, NewRelease, NewRevision},
};

use crate::{
    CONCURRENCY, Options, Stop,
    compare::{contained, json},
    desired::DesiredSpec,
    plan::{Action, Change, Kind, Operation, Plan, ProblemKind, SpecTarget},
};

/// Whether apply has anything to do for `change`: operations, or a problem to report.
fn active(change: &Change) -> bool {
    !change.operations.is_empty() || change.problem.is_some()
}

/// How many times a write is tried when its answers leave it undone.
const WRITE_ATTEMPTS: u32 = 4;

/// What apply reports as it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// A spec or a deployment.
    pub kind: Kind,
    /// Its name.
    pub name: String,
    /// What was done, such as `created (id ...)` or `released 1.1.0`.
    pub what: String,
}

/// One action carried out.
#[derive(Debug, Clone, PartialEq)]
pub struct Done {
    /// A spec or a deployment.
    pub kind: Kind,
    /// Its name.
    pub name: String,
    /// What was done.
    pub action: Action,
    /// Its id.
    pub id: String,
}

/// A resource that apply could not bring to what the files say; the others went on.
#[derive(Debug)]
pub struct Failed {
    /// A spec or a deployment.
    pub kind: Kind,
    /// Its name.
    pub name: String,
    /// Why.
    pub error: crate::Error,
}

/// What apply did.
#[derive(Debug, Default)]
pub struct ApplyReport {
    /// Each action carried out.
    pub done: Vec<Done>,
    /// Each resource that failed, with its error.
    pub failed: Vec<Failed>,
    /// With a dry-run client for writes: each write it would have sent, in order.
    pub unsent: Vec<UnsentRequest>,
}

/// Shared by the concurrent steps of one apply.
struct Run<'a> {
    reads: &'a Client,
    writes: &'a Client,
    /// The plan's hidden values, found once, masked in every failure reported.
    secrets: Vec<String>,
    options: &'a Options,
    on_event: &'a (dyn Fn(&Event) + Send + Sync),
    report: Mutex<ApplyReport>,
    /// Spec ids by name, for deployments that name specs this apply creates.
    spec_ids: Mutex<HashMap<String, String>>,
    /// The specs that failed, so that the deployments depending on them are skipped.
    failed_specs: Mutex<HashSet<String>>,
}

/// Carries `plan` out: reads through `reads`, writes through `writes` (the same client, or a
/// [dry-run](peak_press_apps::ClientBuilder::dry_run) one to see the writes instead), and reports
/// each step to `on_event`. A resource that fails does not stop the others, except those that
/// depend on it, which are skipped; a plan with a resource wrong in the files
/// ([`ProblemKind::Invalid`]) sends no write at all, and reports each such resource.
pub async fn apply(
    reads: &Client,
    writes: &Client,
    plan: &Plan,
    options: &Options,
    on_event: &(dyn Fn(&Event) + Send + Sync),
) -> ApplyReport {
    let spec_ids = plan
        .resources
        .iter()
        .filter(|change| change.kind == Kind::Spec)
        .filter_map(|change| Some((change.name.clone(), change.id.clone()?)))
        .collect();
    let run = Run {
        reads,
        writes,
        secrets: plan.secrets(),
        options,
        on_event,
        report: Mutex::new(ApplyReport::default()),
        spec_ids: Mutex::new(spec_ids),
        failed_specs: Mutex::new(HashSet::new()),
    };
    if plan.invalid().next().is_some() {
        for change in plan.invalid() {
            let message = change.problem.as_ref().map(|p| p.message.clone()).unwrap_or_default();
            run.settle(change, Err(crate::Error::Invalid(message)));
        }
        return run.report.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    }
    let (deletes, others): (Vec<&Change>, Vec<&Change>) =
        plan.resources.iter().partition(|change| change.actions().contains(&Action::Delete));
    let of =
        |kind| others.iter().copied().filter(move |change: &&Change| change.kind == kind && active(change));
    // Specs and deployments at once: a deployment waits only for the spec whose creation or new
    // release it needs, and is skipped if that fails.
    let spec_steps: HashMap<&str, Shared<BoxFuture<'_, ()>>> = of(Kind::Spec)
        .map(|change| {
            (change.name.as_str(), run.attempt(change, run.spec(change)).map(drop).boxed().shared())
        })
        .collect();
    let specs = spec_steps.values().cloned().map(|step| step.map(|()| None).boxed());
    let deployments = of(Kind::Deployment).map(|change| {
        let after = change.depends_on.as_deref().and_then(|spec| spec_steps.get(spec)).cloned();
        let step = run.deployment(change);
        let run = &run;
        async move {
            if let Some(after) = after {
                after.await;
            }
            run.attempt(change, step).await
        }
        .boxed()
    });
    let steps: Vec<_> = specs.chain(deployments).collect();
    let touched: Vec<_> = stream::iter(steps).buffer_unordered(CONCURRENCY).collect().await;
    drop(spec_steps);
    run.each(deletes.iter().copied().filter(|c| c.kind == Kind::Deployment), |c| run.delete(c)).await;
    run.each(deletes.iter().copied().filter(|c| c.kind == Kind::Spec), |c| run.delete(c)).await;
    if let Some(timeout) = options.wait {
        let run = &run;
        let waits: Vec<_> = touched
            .into_iter()
            .flatten()
            .flatten()
            .map(|(change, id)| async move {
                let waited = run.reads.wait_for_deployment(&id).timeout(timeout).deployed().await;
                run.settle(change, waited.map(|_| Vec::new()).map_err(crate::Error::from));
            })
            .collect();
        stream::iter(waits).buffer_unordered(CONCURRENCY).collect::<Vec<()>>().await;
    }
    run.report.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<'a> Run<'a> {
    /// Runs `step` for each change that has something to do or a problem, concurrently.
    async fn each<'c, F>(&self, changes: impl Iterator<Item = &'c Change>, step: impl Fn(&'c Change) -> F)
    where
        F: Future<Output = Result<(Vec<Done>, ()), crate::Error>>,
    {
        // The futures are made first and streamed as they are, which keeps apply `Send`.
        let steps: Vec<_> = changes
            .filter(|change| active(change))
            .map(|change| self.attempt(change, step(change)))
            .collect();
        stream::iter(steps).buffer_unordered(CONCURRENCY).collect::<Vec<_>>().await;
    }

    /// Runs `step` for `change` unless it is blocked, and settles the outcome; returns what it
    /// succeeded with.
    async fn attempt<T>(
        &self,
        change: &Change,
        step: impl Future<Output = Result<(Vec<Done>, T), crate::Error>>,
    ) -> Option<T> {
        let outcome = match self.blocked(change) {
            Some(error) => Err(error),
            None => step.await,
        };
        match outcome {
            Ok((done, value)) => {
                self.settle(change, Ok(done));
                Some(value)
            }
            Err(error) => {
                self.settle(change, Err(error));
                None
            }
        }
    }

    /// Why `change` is not attempted: its own problem, or a failure of the spec it depends on.
    fn blocked(&self, change: &Change) -> Option<crate::Error> {
        if let Some(problem) = &change.problem {
            return Some(match problem.kind {
                ProblemKind::Refused => crate::Error::Refused(problem.message.clone()),
                _ => crate::Error::Unreadable(problem.message.clone()),
            });
        }
        if self.options.stop.as_ref().is_some_and(Stop::is_stopped) {
            return Some(crate::Error::Skipped("not begun: the apply was stopping".to_owned()));
        }
        let spec = change.depends_on.as_ref()?;
        let failed = self.failed_specs.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        failed.contains(spec).then(|| crate::Error::Skipped(format!("its spec {spec:?} failed")))
    }

    fn settle(&self, change: &Change, outcome: Result<Vec<Done>, crate::Error>) {
        let mut report = self.report.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match outcome {
            Ok(done) => report.done.extend(done),
            Err(error) => {
                if change.kind == Kind::Spec {
                    let mut failed = self.failed_specs.lock().unwrap_or_else(|p| p.into_inner());
                    failed.insert(change.name.clone());
                }
                let what = match &error {
                    crate::Error::Skipped(why) => format!("skipped: {why}"),
                    error => format!("failed: {}", crate::plan::redact(&self.secrets, &error.to_string())),
                };
                (self.on_event)(&Event { kind: change.kind, name: change.name.clone(), what });
                report.failed.push(Failed { kind: change.kind, name: change.name.clone(), error });
            }
        }
    }

    fn done(&self, change: &Change, action: Action, id: &str, what: String) -> Done {
        (self.on_event)(&Event { kind: change.kind, name: change.name.clone(), what });
        Done { kind: change.kind, name: change.name.clone(), action, id: id.to_owned() }
    }

    /// A write's outcome, with a dry run's stopped request noted (its hidden values masked) and
    /// taken as done: `stand_in` is what the write would have answered.
    fn sent<T>(
        &self,
        change: &Change,
        outcome: Result<T, Error>,
        stand_in: impl FnOnce() -> T,
    ) -> Result<T, Error> {
        match outcome {
            Err(Error::NotSent { mut request }) => {
                if let Some(body) = request.body.as_ref().and_then(|b| serde_json::from_slice(b).ok()) {
                    request.body = Some(serde_json::to_vec(&change.masked(&body)).unwrap_or_default().into());
                }
                self.report.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).unsent.push(*request);
                Ok(stand_in())
            }
            other => other,
        }
    }

    async fn spec(&self, change: &Change) -> Result<(Vec<Done>, ()), crate::Error> {
        let mut done = Vec::new();
        let mut id = change.id.clone().unwrap_or_default();
        for operation in &change.operations {
            match operation {
                Operation::CreateSpec { spec } => {
                    let created = write_once(|| self.create_spec(spec), || self.find_spec(spec.name())).await;
                    id = self.sent(change, created, || format!("(new spec {})", spec.name()))?;
                    let mut ids = self.spec_ids.lock().unwrap_or_else(|p| p.into_inner());
                    ids.insert(change.name.clone(), id.clone());
                    drop(ids);
                    done.push(self.done(change, Action::Create, &id, format!("created ({id})")));
                }
                Operation::UpdateSpec { update } => {
                    let updated = self.writes.update_spec_metadata(&id, (**update).clone()).await.map(drop);
                    self.sent(change, updated, || ())?;
                    done.push(self.done(change, Action::Update, &id, "updated".to_owned()));
                }
                Operation::CreateRelease { release } => {
                    let version = &release.release.version;
                    let created =
                        write_once(|| self.create_release(&id, release), || self.find_release(&id, version))
                            .await;
                    self.sent(change, created, || ())?;
                    done.push(self.done(change, Action::Release, &id, format!("released {version}")));
                }
                other => {
                    return Err(crate::Error::Invalid(format!("a spec cannot {}", other.action().as_str())));
                }
            }
        }
        Ok((done, ()))
    }

    async fn create_spec(&self, spec: &DesiredSpec) -> Result<String, Error> {
        let request = self
            .writes
            .create_spec(spec.body.clone())
            .set_featured(spec.featured)
            .set_scope(spec.scope.clone())
            .tenants(spec.tenants.clone())
            .set_parameters(spec.parameters.clone());
        Ok(request.await?.id)
    }

    async fn find_spec(&self, name: &str) -> Result<Option<String>, Error> {
        let mut specs = self.reads.list_specs().name(name).items();
        while let Some(spec) = specs.try_next().await? {
            if spec.metadata.name == name {
                return Ok(Some(spec.id));
            }
        }
        Ok(None)
    }

    async fn create_release(&self, spec_id: &str, release: &NewRelease) -> Result<(), Error> {
        self.writes.create_spec_release(spec_id, release.clone()).await.map(drop)
    }

    async fn find_release(&self, spec_id: &str, version: &str) -> Result<Option<()>, Error> {
        match self.reads.describe_spec_release(spec_id, version).await {
            Ok(_) => Ok(Some(())),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Returns the deployment and its id when it was created, revised or redeployed, for `--wait`.
    async fn deployment(
        &self,
        change: &'a Change,
    ) -> Result<(Vec<Done>, Option<(&'a Change, String)>), crate::Error> {
        let mut done = Vec::new();
        let mut id = change.id.clone().unwrap_or_default();
        let mut touched = false;
        for operation in &change.operations {
            match operation {
                Operation::CreateDeployment { spec, deployment } => {
                    let spec_id = match spec {
                        SpecTarget::Id(id) => id.clone(),
                        SpecTarget::Name(name) => {
                            let ids = self.spec_ids.lock().unwrap_or_else(|p| p.into_inner());
                            let id = ids.get(name).cloned();
                            id.ok_or_else(|| {
                                crate::Error::Skipped(format!("its spec {name:?} was not created"))
                            })?
                        }
                    };
                    let mut create = (**deployment).clone();
                    create.spec.id = spec_id;
                    let name = create.metadata.name.clone();
                    let created =
                        write_once(|| self.create_deployment(&create), || self.find_deployment(&name)).await;
                    id = self.sent(change, created, || format!("(new deployment {name})"))?;
                    touched = true;
                    done.push(self.done(change, Action::Create, &id, format!("created ({id})")));
                }
                Operation::UpdateDeployment { update } => {
                    let updated =
                        self.writes.update_deployment_metadata(&id, (**update).clone()).await.map(drop);
                    self.sent(change, updated, || ())?;
                    done.push(self.done(change, Action::Update, &id, "updated".to_owned()));
                }
                Operation::CreateRevision { revision } => {
                    // Another apply may have made the same revision since the plan: look first.
                    let revised = match self.revision_matching(&id, revision).await? {
                        Some(number) => Ok(number),
                        None => {
                            write_once(
                                || self.revise(&id, revision),
                                || self.revision_matching(&id, revision),
                            )
                            .await
                        }
                    };
                    let number = self.sent(change, revised, || 0)?;
                    touched = true;
                    done.push(self.done(change, Action::Revise, &id, format!("revision {number}")));
                }
                Operation::Redeploy => {
                    let redeployed = self.writes.redeploy(&id).await.map(drop);
                    self.sent(change, redeployed, || ())?;
                    touched = true;
                    done.push(self.done(change, Action::Redeploy, &id, "redeploying".to_owned()));
                }
                other => {
                    return Err(crate::Error::Invalid(format!(
                        "a deployment cannot {}",
                        other.action().as_str()
                    )));
                }
            }
        }
        Ok((done, touched.then_some((change, id))))
    }

    async fn create_deployment(&self, create: &NewDeployment) -> Result<String, Error> {
        Ok(self.writes.create_deployment(create.clone()).await?.id)
    }

    async fn find_deployment(&self, name: &str) -> Result<Option<String>, Error> {
        let mut deployments = self.reads.list_deployments().name(name).items();
        while let Some(deployment) = deployments.try_next().await? {
            if deployment.metadata.name == name {
                return Ok(Some(deployment.id));
            }
        }
        Ok(None)
    }

    async fn revise(&self, deployment_id: &str, revise: &NewRevision) -> Result<u64, Error> {
        Ok(self.writes.create_deployment_revision(deployment_id, revise.clone()).await?.revision)
    }

    /// The number of the deployment's latest revision when it is the one `revise` would make:
    /// the same release, notes (which carry the digest of masked values) and shown values.
    async fn revision_matching(
        &self,
        deployment_id: &str,
        revise: &NewRevision,
    ) -> Result<Option<u64>, Error> {
        let deployment = self.reads.describe_deployment(deployment_id).await?;
        let Some(latest) = deployment.latest_revision else { return Ok(None) };
        let revision = self.reads.describe_deployment_revision(deployment_id, latest.revision).await?;
        let version = revision.spec.as_ref().and_then(|spec| spec.release.as_ref()).map(|r| &r.version);
        let same = version == revise.release.as_ref().map(|r| &r.version)
            && revision.notes.as_deref() == revise.revision.as_ref().map(|r| r.notes.as_str())
            && contained(&json(&revise.app_parameters), &json(&revision.parameters));
        Ok(same.then_some(latest.revision))
    }

    async fn delete(&self, change: &Change) -> Result<(Vec<Done>, ()), crate::Error> {
        let id = change.id.clone().unwrap_or_default();
        let deleted = match change.kind {
            Kind::Deployment => self.writes.delete_deployment(&id).await,
            Kind::Spec => self.writes.delete_spec(&id).await,
        };
        let sent = deleted.is_ok();
        self.sent(change, deleted, || ())?;
        if change.kind == Kind::Deployment && sent {
            // A spec cannot be deleted while its deployments are still being deleted.
            let limit = self.options.wait.unwrap_or(crate::DELETE_WAIT);
            self.reads.wait_for_deployment(&id).timeout(limit).gone().await?;
        }
        Ok((vec![self.done(change, Action::Delete, &id, "deleted".to_owned())], ()))
    }
}

/// Runs `write` until it succeeds, or until reading back with `found` shows that an attempt
/// whose answer was lost (or that another apply) already did it. A conflict is read back once:
/// the resource exists, made by someone else.
async fn write_once<T, W, R>(write: impl Fn() -> W, found: impl Fn() -> R) -> Result<T, Error>
where
    W: Future<Output = Result<T, Error>>,
    R: Future<Output = Result<Option<T>, Error>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let error = match write().await {
            Ok(value) => return Ok(value),
            Err(error @ Error::NotSent { .. }) => return Err(error),
            Err(error) => error,
        };
        let unknown = error.may_have_been_applied();
        if (error.is_conflict() || unknown)
            && let Some(value) = found().await?
        {
            return Ok(value);
        }
        let again = unknown || error.is_retryable();
        if error.is_conflict() || !again || attempt >= WRITE_ATTEMPTS {
            return Err(error);
        }
    }
}
