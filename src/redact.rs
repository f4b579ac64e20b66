//! Keeping the client's own token out of text that the client did not write.
//!
//! A proxy or a service that echoes the request (an error page quoting the headers, a JSON error
//! that repeats the `Authorization` value) would otherwise carry the token into an error's
//! message, its `Display` and the debug log line of the failed call. Every message built from a
//! response passes through [`Redactor::scrub`] first.

use std::fmt;

/// What a scrubbed token is replaced with.
pub(crate) const REDACTED: &str = "<redacted>";

/// Tokens shorter than this are not looked for: they cannot be real credentials, and replacing
/// every `t` of a message for a test token `"t"` would garble it.
const SHORTEST_SCRUBBED: usize = 8;

/// The shortest start of a token that is removed from the end of a text cut short: shorter ones
/// tell nothing, and would eat ordinary words.
const SHORTEST_PARTIAL: usize = 4;

/// The forms of the token that must not appear in text built from a response.
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    /// The whole header value first, then its credential alone (`Bearer abc` also hides `abc`).
    needles: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Redactor(<redacted>)")
    }
}

impl Redactor {
    pub(crate) fn new(token: &str) -> Self {
        let mut needles = vec![token.to_owned()];
        if let Some((_, credential)) = token.split_once(' ') {
            needles.push(credential.trim().to_owned());
        }
        needles.retain(|needle| needle.len() >= SHORTEST_SCRUBBED);
        Self { needles }
    }

    /// `text` with every occurrence of the token replaced. When `cut` is true, `text` is the start
    /// of something longer, so a token cut off at its end is removed as well.
    pub(crate) fn scrub(&self, text: &str, cut: bool) -> String {
        let mut text = text.to_owned();
        for needle in &self.needles {
            if text.contains(needle.as_str()) {
                text = text.replace(needle.as_str(), REDACTED);
            }
        }
        if cut {
            let partial = self
                .needles
                .iter()
                .filter_map(|needle| {
                    needle
                        .char_indices()
                        .map(|(end, _)| &needle[..end])
                        .filter(|start| start.len() >= SHORTEST_PARTIAL)
                        .filter(|start| text.ends_with(start))
                        .map(str::len)
                        .max()
                })
                .max();
            if let Some(length) = partial {
                text.truncate(text.len() - length);
                text.push_str(REDACTED);
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_the_token_is_hidden() {
        let redactor = Redactor::new("Bearer s3cr3t-t0ken");
        assert_eq!(
            redactor.scrub("header was Bearer s3cr3t-t0ken; again s3cr3t-t0ken", false),
            "header was <redacted>; again <redacted>"
        );
        assert_eq!(redactor.scrub("the page was cut at s3cr3t", true), "the page was cut at <redacted>");
        assert_eq!(redactor.scrub("the page was cut at s3cr3t", false), "the page was cut at s3cr3t");
    }

    #[test]
    fn short_tokens_are_not_looked_for() {
        assert_eq!(Redactor::new("t").scrub("the text stays", true), "the text stays");
    }
}
