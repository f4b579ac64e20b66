//! What apply writes into the service so that a later plan can read it back, all of it visible
//! there: the owner's tag on each resource it manages, and a digest of masked values at the end
//! of a revision's notes.

/// The prefix of the tags apply manages; a file's own tags with it are ignored.
const PREFIX: &str = "press-apps.";

/// The tag that marks a resource as managed by the set of files of `owner`.
pub fn owner(owner: &str) -> String {
    format!("{PREFIX}owner:{owner}")
}

/// Whether a tag is one apply manages.
pub fn is_mark(tag: &str) -> bool {
    tag.starts_with(PREFIX)
}

/// The line that ends a revision's notes when it was made with masked values.
const DIGEST_LINE: &str = "press-apps hidden values:";

/// A revision's notes: the file's (or a default), and the digest of its masked values.
pub fn with_digest(notes: Option<&str>, digest: Option<&str>) -> String {
    let notes = notes.unwrap_or("Applied by press-apps");
    match digest {
        Some(digest) => format!("{notes}\n\n{DIGEST_LINE} {digest}"),
        None => notes.to_owned(),
    }
}

/// The digest that a revision's notes end with, if they end with one.
pub fn digest_of(notes: Option<&str>) -> Option<&str> {
    notes?.lines().last()?.strip_prefix(DIGEST_LINE).map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_read_back_from_the_notes() {
        let notes = with_digest(Some("Bump replicas"), Some("abc123"));
        assert_eq!(digest_of(Some(&notes)), Some("abc123"));
        assert_eq!(digest_of(Some("Bump replicas")), None);
        assert_eq!(with_digest(None, None), "Applied by press-apps");
        assert!(is_mark(&owner("team-a")) && !is_mark("ml"));
    }
}
