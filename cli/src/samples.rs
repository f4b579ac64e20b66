//! What `--generate` prints: a sample input file for each command that takes one, written to run
//! as it is (ids it cannot know are template variables, named in its first lines).

/// `specs create`.
pub const SPEC: &str = r#"# press-apps specs create spec.yaml
# An app spec with its first release. Top-level keys: body, featured, scope, tenants, parameters.
body:
  version: 1
  kind: app
  metadata:
    name: example-app
    title: Example app
    summary: What the app does, in one line
    description: |
      What the app does, in as many lines as it needs (or give a file with -d).
    descriptionContentType: text/markdown
    tags:
      - name: example
  release:
    version: 1.0.0
    notes: The first release (or give a file with -n)
  config:
    - id: example-block
      release:
        version: 1.0.0
      autoRunOnDeploy: true
featured: false
scope: shared
tenants:
  - other-tenant
parameters:
  build:
    - name: region
      type: string
      required: true
      title: Region
      defaultValue: eu-west-1
      options:
        - title: Ireland
          value: eu-west-1
        - title: Frankfurt
          value: eu-central-1
  run:
    - name: replicas
      type: number
      required: false
      title: Replicas
      defaultValue: 2
    - name: api_key
      type: string
      required: false
      title: API key, shown masked
      defaultValue: ""
      hideValue: true
"#;

/// `specs create-release`.
pub const RELEASE: &str = r#"# press-apps specs create-release SPEC_ID release.yaml
# A new release of a spec; its version must be greater than the latest. Top-level keys: body,
# parameters.
body:
  release:
    version: 2.0.0
    notes: What changed (or give a file with -n)
  config:
    - id: example-block
      release:
        version: 1.0.0
parameters:
  build: []
  run:
    - name: replicas
      type: number
      required: false
      defaultValue: 3
"#;

/// `specs update-metadata`.
pub const SPEC_UPDATE: &str = r#"# press-apps specs update-metadata SPEC_ID spec-update.yaml
# Only the fields given change. Top-level key: body.
body:
  metadata:
    title: Example app, renamed
    summary: A better summary
    status: available
  featured: true
  scope: private
"#;

/// `deployments create`.
pub const DEPLOYMENT: &str = r#"# press-apps deployments create deployment.yaml -p spec_id=SPEC_ID
# Deploys a release of a spec (the latest unless named). Top-level key: body.
body:
  metadata:
    name: example-deployment
    title: Example deployment
    summary: What this deployment is for
    tags:
      - name: example
  revision:
    notes: The first revision (or give a file with -n)
  spec:
    id: "{{ spec_id }}"
    release:
      version: 1.0.0
  appParameters:
    build: {}
    run:
      replicas: 2
"#;

/// `deployments create-revision`.
pub const REVISION: &str = r#"# press-apps deployments create-revision DEPLOYMENT_ID revision.yaml
# A new revision from a release of the deployment's spec (the latest unless named). Top-level
# key: body.
body:
  release:
    version: 1.0.0
  revision:
    notes: Why this revision (or give a file with -n)
  appParameters:
    build: {}
    run:
      replicas: 3
"#;

/// `deployments update-metadata`.
pub const DEPLOYMENT_UPDATE: &str = r#"# press-apps deployments update-metadata DEPLOYMENT_ID deployment-update.yaml
# Only the fields given change. Top-level key: body.
body:
  title: Example deployment, renamed
  summary: A better summary
"#;
