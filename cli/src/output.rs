//! How answers are printed: JSON (the default, with the envelopes the official CLI prints), YAML,
//! or a table (a row per item for lists, a row per field for one answer); or, with `--jq`, only
//! what a jq expression selects. Data goes to stdout; a closed pipe ends the command quietly.

use std::{
    io::{self, IsTerminal, Write},
    time::{Duration, Instant},
};

use serde::Serialize;
use serde_json::{Value, json};

use crate::{args::Output, failure::Failure, jq::Jq};

/// The columns of a list's table: a header and the item's field (a JSON pointer).
pub type Columns = &'static [(&'static str, &'static str)];

/// Where printed output goes, and how.
pub struct Printer {
    format: Output,
    /// The format asked for with `-o`, if one was.
    asked: Option<Output>,
    jq: Option<Jq>,
    out: io::BufWriter<io::Stdout>,
    /// Rows held for a table printed at the end of a streamed listing.
    rows: Vec<Value>,
    /// Whether a YAML document has been printed, for the `---` between documents.
    documents: usize,
}

impl Printer {
    /// Prints in the format `asked` for, JSON unless one was.
    pub fn new(asked: Option<Output>, jq: Option<Jq>) -> Self {
        let format = asked.unwrap_or(Output::Json);
        Self { format, asked, jq, out: io::BufWriter::new(io::stdout()), rows: Vec::new(), documents: 0 }
    }

    /// Prints text as it is, such as a sample file.
    pub fn text(&mut self, text: &str) -> Result<(), Failure> {
        self.write(text.as_bytes())?;
        self.flush()
    }

    /// Prints one answer: as JSON, as YAML, or as a table of its fields.
    pub fn value(&mut self, value: &impl Serialize) -> Result<(), Failure> {
        let value = to_value(value)?;
        if self.jq.is_some() {
            return self.filtered(&value);
        }
        match self.format {
            // Only `plan` prints Markdown, itself; `run` refuses it for every other command.
            Output::Json | Output::Markdown => {
                let text = serde_json::to_string_pretty(&value).map_err(|e| Failure::usage(e.to_string()))?;
                self.line(&text)
            }
            Output::Yaml => self.yaml(&value),
            Output::Table => {
                let mut rows = Vec::new();
                fields(&value, String::new(), &mut rows);
                let rows: Vec<Value> =
                    rows.into_iter().map(|(key, value)| json!({"key": key, "value": value})).collect();
                let text = table(&rows, &[("FIELD", "/key"), ("VALUE", "/value")]);
                self.write(text.as_bytes())
            }
        }
    }

    /// Prints the lines `--jq` makes of `value`.
    fn filtered(&mut self, value: &Value) -> Result<(), Failure> {
        let lines = match &self.jq {
            Some(jq) => jq.lines(value)?,
            None => return Ok(()),
        };
        lines.iter().try_for_each(|line| self.line(line))
    }

    /// Prints one page of a list as the official CLI does: the service's envelope in JSON or
    /// YAML, or its items as a table.
    pub fn page<T: Serialize>(
        &mut self,
        page: &peak_press_apps::Page<T>,
        key: &str,
        columns: Columns,
    ) -> Result<(), Failure> {
        let items = to_value(&page.items)?;
        if self.format == Output::Table && self.jq.is_none() {
            self.rows = items.as_array().cloned().unwrap_or_default();
            self.finish(columns)?;
            if page.page_number < page.page_count {
                eprintln!(
                    "press-apps: page {} of {} ({} {key} in all); --page-number {} for the next, --all for every page",
                    page.page_number,
                    page.page_count,
                    page.total,
                    page.page_number + 1
                );
            }
            return Ok(());
        }
        let count_key = format!("{}Count", key.trim_end_matches('s'));
        let envelope = json!({
            key: items,
            count_key: page.total,
            "pageCount": page.page_count,
            "pageNumber": page.page_number,
            "pageSize": page.page_size,
        });
        self.value(&envelope)
    }

    /// Prints one item of a streamed listing: a JSON line, a YAML document, or a table row kept
    /// for [`finish`](Self::finish).
    pub fn item(&mut self, item: &impl Serialize) -> Result<(), Failure> {
        let value = to_value(item)?;
        if self.jq.is_some() {
            return self.filtered(&value);
        }
        match self.format {
            Output::Json | Output::Markdown => {
                let text = serde_json::to_string(&value).map_err(|e| Failure::usage(e.to_string()))?;
                self.line(&text)
            }
            Output::Yaml => self.yaml(&value),
            Output::Table => {
                self.rows.push(value);
                Ok(())
            }
        }
    }

    /// Prints the table of the rows kept, if the output is a table.
    pub fn finish(&mut self, columns: Columns) -> Result<(), Failure> {
        if self.format == Output::Table && self.jq.is_none() {
            let rows = std::mem::take(&mut self.rows);
            let text = table(&rows, columns);
            self.write(text.as_bytes())?;
        }
        self.flush()
    }

    fn yaml(&mut self, value: &Value) -> Result<(), Failure> {
        if self.documents > 0 {
            self.line("---")?;
        }
        self.documents += 1;
        let text = yaml_serde::to_string(value).map_err(|e| Failure::usage(e.to_string()))?;
        self.write(text.as_bytes())
    }

    /// Whether `--jq` filters what is printed.
    pub fn filtering(&self) -> bool {
        self.jq.is_some()
    }

    /// The format asked for with `-o`, if one was.
    pub fn asked(&self) -> Option<Output> {
        self.asked
    }

    /// Prints a line of text as it is.
    pub fn line(&mut self, text: &str) -> Result<(), Failure> {
        self.write(text.as_bytes())?;
        self.write(b"\n")
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.out.write_all(bytes).map_err(closed_pipe)
    }

    pub fn flush(&mut self) -> Result<(), Failure> {
        self.out.flush().map_err(closed_pipe)
    }
}

/// A closed pipe (`press-apps specs list | head -1`) ends the command quietly; any other write
/// error is reported.
fn closed_pipe(error: io::Error) -> Failure {
    if error.kind() == io::ErrorKind::BrokenPipe {
        return Failure::closed_pipe();
    }
    Failure::usage(format!("cannot write the output: {error}"))
}

fn to_value(value: &impl Serialize) -> Result<Value, Failure> {
    serde_json::to_value(value).map_err(|e| Failure::usage(format!("cannot print the answer: {e}")))
}

/// Rows under their headers, in columns as wide as their widest cell.
fn table(rows: &[Value], columns: Columns) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| columns.iter().map(|(_, pointer)| cell(row.pointer(pointer))).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (header, _))| {
            cells.iter().map(|row| row[i].chars().count()).chain([header.len()]).max().unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let mut push_row = |values: Vec<&str>| {
        let line: Vec<String> = values.iter().zip(&widths).map(|(v, w)| format!("{v:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    };
    push_row(columns.iter().map(|(header, _)| *header).collect());
    for row in &cells {
        push_row(row.iter().map(String::as_str).collect());
    }
    out
}

/// The leaves of `value` as (dotted path, value) rows, in order: `metadata.name`, `tags.0.name`.
/// An empty object or list is a leaf of its own.
fn fields(value: &Value, path: String, rows: &mut Vec<(String, Value)>) {
    let child = |key: &str| if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") };
    match value {
        Value::Object(map) if !map.is_empty() => {
            map.iter().for_each(|(key, field)| fields(field, child(key), rows))
        }
        Value::Array(items) if !items.is_empty() => {
            items.iter().enumerate().for_each(|(index, item)| fields(item, child(&index.to_string()), rows))
        }
        leaf => rows.push((path, leaf.clone())),
    }
}

/// A value as one cell: text as it is, nothing as empty, anything else as JSON, on one line.
fn cell(value: Option<&Value>) -> String {
    let text = match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A running count on stderr while `--all` streams into a file or a pipe, so that a long listing
/// shows it is alive. Shown only when stderr is a terminal and stdout is not (on one terminal
/// the count would mix with the data).
pub struct Progress<W: Write> {
    out: Option<W>,
    every: Duration,
    items: u64,
    last: Option<Instant>,
}

impl Progress<io::Stderr> {
    pub fn on_terminal() -> Self {
        let shown = io::stderr().is_terminal() && !io::stdout().is_terminal();
        Self::new(shown.then(io::stderr), Duration::from_millis(100))
    }
}

impl<W: Write> Progress<W> {
    fn new(out: Option<W>, every: Duration) -> Self {
        Self { out, every, items: 0, last: None }
    }

    /// Counts one item; redraws the count at most every `every`.
    pub fn tick(&mut self) {
        self.items += 1;
        let due = self.last.is_none_or(|last| last.elapsed() >= self.every);
        if let Some(out) = self.out.as_mut().filter(|_| due) {
            let _ = write!(out, "\rpress-apps: {}", counted(self.items));
            let _ = out.flush();
            self.last = Some(Instant::now());
        }
    }

    /// Shows the final count and ends its line.
    pub fn finish(&mut self) {
        if let Some(out) = self.out.as_mut() {
            let _ = writeln!(out, "\rpress-apps: {}", counted(self.items));
        }
    }
}

/// `1 item`, `2 items`.
fn counted(items: u64) -> String {
    format!("{items} item{}", if items == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Progress;

    #[test]
    fn the_count_is_redrawn_in_place_and_ends_its_line() {
        let mut progress = Progress::new(Some(Vec::new()), Duration::ZERO);
        for _ in 0..3 {
            progress.tick();
        }
        progress.finish();
        let shown = String::from_utf8(progress.out.take().unwrap()).unwrap();
        assert_eq!(
            shown,
            "\rpress-apps: 1 item\rpress-apps: 2 items\rpress-apps: 3 items\rpress-apps: 3 items\n"
        );
    }

    #[test]
    fn nothing_is_shown_without_a_terminal_and_redraws_are_spaced() {
        let mut hidden = Progress::<Vec<u8>>::new(None, Duration::ZERO);
        hidden.tick();
        hidden.finish();
        assert!(hidden.out.is_none());
        let mut spaced = Progress::new(Some(Vec::new()), Duration::from_secs(3600));
        for _ in 0..100 {
            spaced.tick();
        }
        let shown = String::from_utf8(spaced.out.take().unwrap()).unwrap();
        assert_eq!(shown, "\rpress-apps: 1 item", "one redraw within the interval");
    }
}
