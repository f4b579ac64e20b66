//! The hidden parameter values a command has come to know (apply's, from its plan), masked in
//! every line it logs: a service's refusal may echo a value it was sent, and `--verbose` prints
//! the service's messages.

use std::{borrow::Cow, sync::RwLock};

use peak_press_apps_engine::MASK;

static KNOWN: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Adds `secrets` to those masked from now on.
pub fn learn(secrets: Vec<String>) {
    if secrets.is_empty() {
        return;
    }
    let mut known = KNOWN.write().unwrap_or_else(|poisoned| poisoned.into_inner());
    known.extend(secrets);
    // The longest first, so that a secret inside another is not masked halfway.
    known.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
    known.dedup();
}

/// `text` with every known secret replaced by the mask.
pub fn redact(text: &str) -> Cow<'_, str> {
    let known = KNOWN.read().unwrap_or_else(|poisoned| poisoned.into_inner());
    if !known.iter().any(|secret| text.contains(secret.as_str())) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(known.iter().fold(text.to_owned(), |text, secret| text.replace(secret.as_str(), MASK)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_secrets_are_masked_and_the_rest_is_left() {
        assert_eq!(redact("422: value s3cr3t-token refused"), "422: value s3cr3t-token refused");
        learn(vec!["s3cr3t".into(), "s3cr3t-token".into()]);
        assert_eq!(redact("422: value s3cr3t-token refused"), format!("422: value {MASK} refused"));
        assert_eq!(redact("nothing here"), "nothing here");
    }
}
