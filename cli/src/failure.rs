//! What a failed command prints and the exit code it ends with: one or two lines on stderr,
//! never a traceback, and a code per kind of failure that scripts can test.

use std::process::ExitCode;

use peak_press_apps::{Error, ErrorKind};

/// The exit codes, by kind of failure (documented in the README and `--help`).
pub mod code {
    /// Anything not listed below.
    pub const OTHER: u8 = 1;
    /// Bad usage, or an input file that cannot be read, rendered or parsed.
    pub const USAGE: u8 = 2;
    /// The spec, release, deployment or revision does not exist (404).
    pub const NOT_FOUND: u8 = 3;
    /// The request conflicts with the current state (409).
    pub const CONFLICT: u8 = 4;
    /// The token is missing or refused (401, 403).
    pub const AUTH: u8 = 5;
    /// The service failed or could not be reached: 5xx, 429, transport failures, time limits.
    pub const SERVICE: u8 = 6;
    /// A deployment waited on failed or did not settle in time.
    pub const WAIT: u8 = 7;
}

/// A failure to report.
#[derive(Debug)]
pub struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Self { message: message.into(), code: code::USAGE }
    }

    pub fn bad_file(message: impl Into<String>) -> Self {
        Self::usage(message)
    }

    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }

    /// Prints the failure on stderr.
    pub fn report(&self) {
        eprintln!("press-apps: {}", self.message);
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let code = if error.is_not_found() {
            code::NOT_FOUND
        } else if error.is_conflict() {
            code::CONFLICT
        } else if error.is_auth() || matches!(error, Error::Config { .. }) {
            code::AUTH
        } else {
            match error.kind() {
                ErrorKind::Wait => code::WAIT,
                ErrorKind::Client => code::USAGE,
                ErrorKind::Throttling | ErrorKind::Transient | ErrorKind::Server => code::SERVICE,
                _ => code::OTHER,
            }
        };
        // The error's Display already holds the status, the service's message and the request
        // id, on one line, with the token scrubbed out.
        Self { message: error.to_string(), code }
    }
}
