//! What apply writes into the service so that a later plan can read it back, all of it visible
//! there: the owner's tag on each resource it manages, the list of tags its files set, and a
//! digest of masked values at the end of a revision's notes.

use std::collections::BTreeSet;

use peak_press_apps::types::Tag;
use serde::{Deserialize, Serialize};

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

/// The tag that records what the files set at the last apply, as JSON: the tags they gave and
/// the optional metadata fields they gave (`{"fields":["description"],"tags":["ml"]}`); what a
/// later apply may remove or clear when the files no longer give it.
const APPLIED: &str = "press-apps.applied:";

/// The optional metadata fields a file may give and later leave out, which apply then clears.
pub const OPTIONAL_FIELDS: [&str; 4] = ["title", "description", "descriptionContentType", "imageUrl"];

/// What the files set at the last apply.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
struct Record {
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    fields: BTreeSet<String>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    tags: BTreeSet<String>,
}

/// The tags a resource should carry, merged three ways as `kubectl apply` merges fields: the
/// files' tags; every tag someone else set on the service (apply removes only a tag that its
/// files set before, as [`APPLIED`] on the resource records, and no longer give); every owner's
/// mark already there; this apply's owner mark; and the record of what the files set (`fields`:
/// the optional metadata fields they give), when there is anything to record. The order of the
/// tags already there is kept.
pub fn tags(file: &[Tag], current: &[Tag], owner: Option<&str>, fields: &[&str]) -> Vec<Tag> {
    let given: Vec<&str> = file.iter().map(|tag| tag.name.as_str()).filter(|name| !is_mark(name)).collect();
    let before = applied(current).tags;
    let mut names: Vec<String> = current
        .iter()
        .map(|tag| tag.name.clone())
        .filter(|name| {
            if is_mark(name) {
                name.starts_with(&owner_prefix())
            } else {
                given.contains(&name.as_str()) || !before.contains(name)
            }
        })
        .collect();
    let record = Record {
        fields: fields.iter().map(|field| (*field).to_owned()).collect(),
        tags: given.iter().map(|tag| (*tag).to_owned()).collect(),
    };
    let record = (record != Record::default())
        .then(|| format!("{APPLIED}{}", serde_json::to_string(&record).unwrap_or_default()));
    let marks = owner.map(self::owner).into_iter().chain(record);
    for name in given.iter().map(|name| (*name).to_owned()).chain(marks) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names.into_iter().map(|name| Tag { name }).collect()
}

/// The optional metadata fields the files set at the last apply and no longer give: apply clears
/// them.
pub fn cleared(current: &[Tag], given: &[&str]) -> Vec<&'static str> {
    let before = applied(current).fields;
    OPTIONAL_FIELDS.into_iter().filter(|field| before.contains(*field) && !given.contains(field)).collect()
}

/// Whether a tag is the record of what the files set, which alone is no reason to update: a
/// resource made before the record existed, or adopted, gets it with its next update.
pub fn is_record(tag: &str) -> bool {
    tag.starts_with(APPLIED)
}

fn owner_prefix() -> String {
    owner("")
}

/// What the files set at the last apply, from the record among `tags`.
fn applied(tags: &[Tag]) -> Record {
    let record = tags.iter().find_map(|tag| tag.name.strip_prefix(APPLIED));
    record.and_then(|record| serde_json::from_str(record).ok()).unwrap_or_default()
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

    fn named(names: &[&str]) -> Vec<Tag> {
        names.iter().map(|name| Tag { name: (*name).to_owned() }).collect()
    }

    fn names(tags: Vec<Tag>) -> Vec<String> {
        tags.into_iter().map(|tag| tag.name).collect()
    }

    #[test]
    fn tags_merge_three_ways() {
        // Created: the files' tags, the owner, the record.
        let first = tags(&named(&["ml", "churn"]), &[], Some("team-a"), &["description"]);
        assert_eq!(
            names(first.clone()),
            [
                "ml",
                "churn",
                "press-apps.owner:team-a",
                r#"press-apps.applied:{"fields":["description"],"tags":["churn","ml"]}"#
            ]
        );
        assert_eq!(cleared(&first, &["description"]), Vec::<&str>::new());
        assert_eq!(cleared(&first, &["title"]), ["description"], "given before, left out now");
        // Someone adds "by-hand"; the file drops "churn": it goes, "by-hand" stays, and an apply
        // without an owner keeps the owner's mark.
        let mut on_service = first;
        on_service.push(Tag { name: "by-hand".into() });
        let second = tags(&named(&["ml"]), &on_service, None, &[]);
        assert_eq!(
            names(second),
            ["ml", "press-apps.owner:team-a", "by-hand", r#"press-apps.applied:{"tags":["ml"]}"#]
        );
        // Made before the record existed: nothing is known to be the files', so nothing goes.
        let adopted = tags(&named(&["ml"]), &named(&["legacy", "ml"]), Some("b"), &[]);
        assert_eq!(
            names(adopted),
            ["legacy", "ml", "press-apps.owner:b", r#"press-apps.applied:{"tags":["ml"]}"#]
        );
        assert_eq!(
            cleared(&named(&["legacy"]), &[]),
            Vec::<&str>::new(),
            "nothing recorded, nothing cleared"
        );
    }
}
