//! `plan -o markdown`: the plan as a pull-request comment, as Atlantis posts one: the summary
//! line, a table of the changes, and each resource's field-by-field diff in a collapsible
//! section. Hidden values are masked as in every format. Long plans stay readable: the details
//! stop after a bound, and the comment says how much it left out.

use std::fmt::Write as _;

use peak_press_apps_engine::{Change, Plan};

use super::{shown_value, summary_line, symbol, what};

/// The resources whose details are shown; the table lists every one.
const DETAILED_RESOURCES: usize = 50;
/// The fields shown of one resource.
const FIELDS_PER_RESOURCE: usize = 40;
/// Well under the 65,536 characters of a GitHub comment, with room for the table.
const DETAIL_CHARACTERS: usize = 40_000;

/// The comment for `plan`; `problem` words a resource's problem with its file and line.
pub fn plan(plan: &Plan, problem: impl Fn(&Change) -> String) -> String {
    let mut out = String::from("### press-apps plan\n\n");
    let _ = writeln!(out, "**{}**\n", summary_line(plan));
    let shown: Vec<&Change> = plan
        .resources
        .iter()
        .filter(|c| !c.operations.is_empty() || c.problem.is_some() || !c.notes.is_empty())
        .collect();
    if shown.is_empty() {
        out.push_str("No changes: the service matches the files.\n");
        return out;
    }
    out.push_str("| | Kind | Name | Change |\n|---|---|---|---|\n");
    for change in &shown {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            symbol(change),
            change.kind.as_str(),
            cell(&change.name),
            what(change)
        );
    }
    out.push('\n');
    let (mut detailed, mut left_out) = (0, 0);
    let mut details = String::new();
    for change in &shown {
        let section = section(change, &problem);
        if detailed >= DETAILED_RESOURCES || details.len() + section.len() > DETAIL_CHARACTERS {
            left_out += 1;
            continue;
        }
        details.push_str(&section);
        detailed += 1;
    }
    out.push_str(&details);
    if left_out > 0 {
        let _ = writeln!(
            out,
            "_The details of {left_out} more resources are left out to keep this comment readable; \
             `press-apps plan` prints them all._"
        );
    }
    out
}

/// One resource's collapsible details.
fn section(change: &Change, problem: &impl Fn(&Change) -> String) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<details><summary><code>{}</code> {} <b>{}</b>: {}</summary>\n",
        symbol(change),
        change.kind.as_str(),
        html(&change.name),
        what(change)
    );
    if change.problem.is_some() {
        let _ = writeln!(out, "> **Problem:** {}\n", cell(&problem(change)));
    }
    for note in change.notes.iter().chain(&change.remarks) {
        let _ = writeln!(out, "> {}\n", cell(note));
    }
    if !change.fields.is_empty() {
        out.push_str("| Field | Now | In the files |\n|---|---|---|\n");
        for field in change.fields.iter().take(FIELDS_PER_RESOURCE) {
            let _ = writeln!(
                out,
                "| <code>{}</code> | <code>{}</code> | <code>{}</code> |",
                html(&field.path),
                html(&shown_value(field, &field.old)),
                html(&shown_value(field, &field.new))
            );
        }
        if change.fields.len() > FIELDS_PER_RESOURCE {
            let _ = writeln!(out, "\n_{} more fields not shown._", change.fields.len() - FIELDS_PER_RESOURCE);
        }
        out.push('\n');
    }
    out.push_str("</details>\n\n");
    out
}

/// Text safe in a table cell: no pipe or line break ends it early, no markup is read in it.
fn cell(text: &str) -> String {
    html(text).replace('\n', "<br>")
}

fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("&#124;"),
            '`' => out.push_str("&#96;"),
            '*' | '_' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}
