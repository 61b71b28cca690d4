//! `--statistics`: how many findings each check (or problem code) has, most frequent first, then by ID;
//! as text or JSON. Only the counts are kept.

use super::{Printer, findings};
use crate::report::{FileView, Tally};
use crate::run::Parts;
use podsec_engine::check_by_id;
use serde_json::json;
use std::collections::HashMap;
use std::io::{self, Write};

pub struct Statistics {
    json: bool,
    counts: HashMap<&'static str, usize>,
}

impl Statistics {
    pub fn new(json: bool) -> Self {
        Self {
            json,
            counts: HashMap::new(),
        }
    }
}

impl Printer for Statistics {
    fn begin(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }

    fn file(&mut self, _out: &mut dyn Write, file: &FileView<'_>, parts: &mut Parts<'_>) -> io::Result<()> {
        if file.error.is_some() {
            *self.counts.entry("unreadable").or_default() += 1;
        }
        for part in parts {
            for finding in findings(&part) {
                *self.counts.entry(finding.code).or_default() += 1;
            }
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write, _tally: &Tally) -> io::Result<()> {
        let mut counts: Vec<(&'static str, usize)> = self.counts.drain().collect();
        counts.sort_by(|(a, m), (b, n)| n.cmp(m).then(a.cmp(b)));
        let summary = |code: &str| {
            check_by_id(code).map_or_else(|| super::sarif::problem_description(code), |c| c.summary())
        };
        if self.json {
            let list: Vec<_> = counts
                .iter()
                .map(|(code, count)| json!({ "code": code, "count": count, "summary": summary(code) }))
                .collect();
            serde_json::to_writer_pretty(&mut *out, &list)?;
            return writeln!(out);
        }
        let width = counts.iter().map(|(code, _)| code.len()).max().unwrap_or(0);
        for (code, count) in &counts {
            writeln!(out, "{count:>5}  {code:<width$}  {}", summary(code))?;
        }
        Ok(())
    }
}
