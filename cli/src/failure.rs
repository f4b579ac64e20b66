//! What a failed command prints and the exit code it ends with: one line on stderr, never a
//! traceback, and a code per kind of failure that scripts can test.

use std::process::ExitCode;

use peak_press_apps::{Error, ErrorKind};

/// The exit codes, by kind of failure: `--help` and the README list this table.
pub mod code {
    /// Anything not listed below.
    pub const OTHER: u8 = 1;
    /// Bad usage or configuration (a flag, a variable such as a missing token), or an input file
    /// that cannot be read, rendered or parsed.
    pub const USAGE: u8 = 2;
    /// The spec, release, deployment or revision does not exist (404).
    pub const NOT_FOUND: u8 = 3;
    /// The request conflicts with the current state (409).
    pub const CONFLICT: u8 = 4;
    /// The token is refused (401, 403).
    pub const AUTH: u8 = 5;
    /// The service failed or could not be reached: 5xx, 429, transport failures, time limits.
    pub const SERVICE: u8 = 6;
    /// A deployment waited on failed or did not settle in time.
    pub const WAIT: u8 = 7;
    /// A saved plan cannot be applied: the service changed since it was made (nothing was
    /// sent), or the file is of another service, credential or format, edited or cut short.
    pub const STALE: u8 = 8;
    /// Not a failure: `plan --detailed-exitcode` found the service differing from the files.
    pub const CHANGES: u8 = 10;
}

/// Every exit code with what it means, in order.
pub const EXIT_CODES: &[(u8, &str)] = &[
    (0, "success"),
    (code::OTHER, "other"),
    (code::USAGE, "usage, configuration or a bad input file"),
    (code::NOT_FOUND, "not found"),
    (code::CONFLICT, "conflict"),
    (code::AUTH, "authentication"),
    (code::SERVICE, "service or network"),
    (code::WAIT, "a deployment waited on failed or timed out"),
    (code::STALE, "a saved plan is stale or not for here (nothing sent)"),
    (code::CHANGES, "changes pending (plan --detailed-exitcode)"),
];

/// The table as one sentence, for `--help`.
pub fn exit_codes_help() -> String {
    let codes: Vec<String> = EXIT_CODES.iter().map(|(code, meaning)| format!("{code} {meaning}")).collect();
    format!("Exit codes: {}.", codes.join(", "))
}

/// A failure to report.
#[derive(Debug)]
pub struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    /// Bad usage or a bad input file.
    pub fn usage(message: impl Into<String>) -> Self {
        Self { message: message.into(), code: code::USAGE }
    }

    /// A failure with the exit code of its kind.
    pub fn with_code(message: impl Into<String>, code: u8) -> Self {
        Self { message: message.into(), code }
    }

    /// An exit code with nothing to say, such as [`code::CHANGES`].
    pub fn exit(code: u8) -> Self {
        Self::with_code(String::new(), code)
    }

    /// stdout was closed by its reader (`press-apps specs list | head -1`): the command ends
    /// quietly and successfully, as a filter's input should.
    pub fn closed_pipe() -> Self {
        Self { message: String::new(), code: 0 }
    }

    /// What it says.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The exit code.
    pub fn code(&self) -> u8 {
        self.code
    }

    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }

    /// Prints the failure on stderr, if there is anything to say.
    pub fn report(&self) {
        if !self.message.is_empty() {
            eprintln!("press-apps: {}", self.message);
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let code = if error.is_not_found() {
            code::NOT_FOUND
        } else if error.is_conflict() {
            code::CONFLICT
        } else if error.is_auth() {
            code::AUTH
        } else {
            match error.kind() {
                ErrorKind::Wait => code::WAIT,
                ErrorKind::ClientError | ErrorKind::InvalidRequest | ErrorKind::Config => code::USAGE,
                ErrorKind::Throttled
                | ErrorKind::ServiceUnavailable
                | ErrorKind::Network
                | ErrorKind::Timeout
                | ErrorKind::ServerError
                | ErrorKind::InvalidResponse => code::SERVICE,
                _ => code::OTHER,
            }
        };
        // The error's Display already holds the status, the service's message and the request
        // id, on one line, with the token scrubbed out. A dry run's stopped request never comes
        // here: the commands print it as their outcome.
        Self { message: error.to_string(), code }
    }
}
