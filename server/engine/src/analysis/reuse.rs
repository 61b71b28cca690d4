//! The editor's keystroke path: the findings of each YAML document kept by its text, so that an edit
//! re-analyses only the document it changed.

use super::{Analysis, Options};
use crate::policy::Policy;
use crate::policy::PolicyContext;
use crate::yaml::Limits;
use std::collections::HashMap;

/// What the previous analysis of a text found per document, kept by a caller that analyses the same
/// text again after each small change (the language server, on every keystroke). Most of an analysis
/// is parsing, and an edit changes one document: the others are taken from here, moved to their new
/// offsets, instead of being parsed again.
#[derive(Debug, Default)]
pub struct Reuse {
    /// The options the entries were computed with; different options empty the cache.
    pub(super) options: Option<ReuseKey>,
    /// Each analysed document's findings by its text as parsed (the text of its range, markers
    /// included).
    pub(super) documents: HashMap<String, CachedDocument>,
    /// How many documents have been taken from the cache instead of parsed, over its life.
    pub(super) hits: u64,
}

impl Reuse {
    /// How many documents have been taken from the cache instead of parsed, over its life.
    pub fn hits(&self) -> u64 {
        self.hits
    }
}

/// One document's findings, with spans relative to the document's start (except `used_exemptions`,
/// which are in the project file).
#[derive(Debug)]
pub(super) struct CachedDocument {
    /// For a chart template's document with actions, its template text (it was parsed neutralised).
    pub(super) template: Option<String>,
    pub(super) found: Analysis,
}

#[derive(Debug)]
pub(super) struct ReuseKey {
    pub(super) policy: Policy,
    pub(super) context: Option<PolicyContext>,
    pub(super) limits: Limits,
    pub(super) namespace_override: Option<String>,
    pub(super) namespace_default: Option<String>,
}

impl PartialEq for ReuseKey {
    /// Equal when every document would be analysed the same: Namespaces that only moved (an edit above
    /// them) must not empty the cache, or a keystroke in a file with a Namespace re-parses everything.
    fn eq(&self, other: &Self) -> bool {
        self.policy == other.policy
            && self.limits == other.limits
            && self.namespace_override == other.namespace_override
            && self.namespace_default == other.namespace_default
            && match (&self.context, &other.context) {
                (Some(a), Some(b)) => a.resolves_like(b),
                (None, None) => true,
                _ => false,
            }
    }
}

/// [`analyze`], taking unchanged documents from `reuse` and leaving this text's findings there for
/// the next call. The result is always equal to `analyze(text, options)` (the tests hold it to that).
/// Fixes are not reused (their edits depend on the whole text), nor are templates with `else` branches.
pub fn analyze_reusing(text: &str, options: &Options<'_>, reuse: &mut Reuse) -> Analysis {
    super::analyze_documents(text, options, Some(reuse), &super::analysed_kind)
}
