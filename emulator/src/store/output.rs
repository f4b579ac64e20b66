//! How the records in the store become the service's answers, with hidden values masked.

use super::*;

pub(super) fn masked(values: &Map<String, Value>, definitions: &[ParameterDefinition]) -> Map<String, Value> {
    values
        .iter()
        .map(|(name, value)| {
            let hide = definitions.iter().any(|d| &d.name == name && d.hide_value == Some(true));
            (name.clone(), if hide { Value::String(MASK.into()) } else { value.clone() })
        })
        .collect()
}

pub(super) fn spec_out(spec: &Spec) -> SpecOut {
    let latest = spec.releases.last().expect("a spec always has a release");
    SpecOut {
        id: spec.id.clone(),
        kind: "app",
        featured: spec.featured,
        scope: spec.scope.as_str(),
        tenants: spec.tenants.clone(),
        metadata: spec.metadata.clone(),
        latest_release: Some(ReleaseSummary {
            id: latest.id.clone(),
            version: latest.version.to_string(),
            notes: latest.notes.clone(),
            created_at: latest.created_at.clone(),
            created_by: latest.created_by.clone(),
        }),
    }
}

pub(super) fn release_out(release: &Release) -> ReleaseOut {
    ReleaseOut {
        id: release.id.clone(),
        version: release.version.to_string(),
        notes: release.notes.clone(),
        created_at: release.created_at.clone(),
        created_by: release.created_by.clone(),
        config: release.config.clone(),
        parameters: release.parameters.clone(),
    }
}

pub(super) fn deployment_out(deployment: &Deployment) -> DeploymentOut {
    let latest = deployment.latest();
    DeploymentOut {
        id: deployment.id.clone(),
        kind: "app",
        metadata: deployment.metadata.clone(),
        latest_revision: RevisionSummary {
            id: latest.id.clone(),
            revision: latest.number,
            status: latest.status,
            notes: latest.notes.clone(),
            created_at: latest.created_at.clone(),
            created_by: latest.created_by.clone(),
            blocks: latest.blocks.clone(),
        },
        spec: SpecRef {
            id: deployment.spec_id.clone(),
            release: VersionRef { version: latest.release_version.clone() },
        },
    }
}

impl Store {
    pub(super) fn revision_out(&self, deployment: &Deployment, revision: &Revision) -> RevisionOut {
        let definitions = self
            .specs
            .get(&deployment.spec_id)
            .and_then(|spec| spec.releases.iter().find(|r| r.version.to_string() == revision.release_version))
            .map(|release| &release.parameters);
        let hidden =
            |list: fn(&ParameterDefinitions) -> &[ParameterDefinition]| definitions.map_or(&[][..], list);
        RevisionOut {
            id: revision.id.clone(),
            revision: revision.number,
            status: revision.status,
            notes: revision.notes.clone(),
            created_at: revision.created_at.clone(),
            created_by: revision.created_by.clone(),
            resources: revision.blocks.clone(),
            spec: SpecRef {
                id: deployment.spec_id.clone(),
                release: VersionRef { version: revision.release_version.clone() },
            },
            parameters: AppParameters {
                build: masked(&revision.parameters.build, hidden(|d| &d.build)),
                run: masked(&revision.parameters.run, hidden(|d| &d.run)),
            },
        }
    }
}
