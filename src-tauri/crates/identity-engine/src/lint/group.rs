//! Findings grouped the way a reader takes them in: [`FindingGroup`]s of one rule, severity and
//! [`FindingVariant`], each stating its fix once, most severe and biggest first, newest finding
//! first within a group.
//!
//! Grouping happens here, next to the rules, rather than in the UI: a project with a million
//! events carries thousands of findings, and a reader (the warnings view, an agent, the CLI)
//! wants the first few of each group and every group's size. Sending all of them to be grouped
//! by the client cost the warnings view most of its first paint (megabytes of JSON for twenty
//! rows a group).
//!
//! Invariants:
//! - groups never mix rules, severities or variants, so a severity or rule filter applied to
//!   groups is exact;
//! - `total` counts every finding of the group, `findings` holds at most the `per_group` newest
//!   (highest `seq`) of them;
//! - `fix` is the variant's own when it has one (said by the UI), else the fix most of the
//!   group's findings give, counted over all of them, not only the ones returned.

use std::borrow::Cow;

use foldhash::HashMap;
use serde::Serialize;

use super::{Finding, LintRule, Severity};

/// Findings of one rule that need different words: `generic_distinct_id` reports three cases
/// under one rule (see `rules.rs`): an id PostHog refuses outright (an error), a
/// placeholder-looking id (no device lanes), and one user id identified on several unrelated
/// devices (it lists the lanes), which is fine for one person on many devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum FindingVariant {
    Illegal,
    Placeholder,
    ManyDevices,
}

impl Finding {
    pub fn variant(&self) -> Option<FindingVariant> {
        if self.rule != LintRule::GenericDistinctId {
            return None;
        }
        Some(if self.severity == Severity::Error {
            FindingVariant::Illegal
        } else if self.device_ids.is_empty() {
            FindingVariant::Placeholder
        } else {
            FindingVariant::ManyDevices
        })
    }
}

/// One rule's findings of one severity (and variant), with the newest few of them.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FindingGroup<T> {
    pub rule: LintRule,
    pub severity: Severity,
    pub variant: Option<FindingVariant>,
    /// Every finding of the group, shown or not.
    pub total: usize,
    /// The fix most findings of the group give ("" when none gives one); a variant's own fix
    /// is the reader's to state.
    pub fix: String,
    /// The newest `per_group` findings, newest first.
    pub findings: Vec<T>,
}

fn severity_rank(s: Severity) -> u8 {
    match s {
        Severity::Error => 0,
        Severity::Warning => 1,
        Severity::Info => 2,
    }
}

/// Groups `findings` by rule, severity and variant: errors first, then warnings, then info;
/// bigger groups first, then by rule name; newest finding first, at most `per_group` of each.
/// `wrap` turns each kept finding into what the caller sends (the API adds its source).
pub fn group_findings<'a, T>(
    findings: impl IntoIterator<Item = Cow<'a, Finding>>,
    per_group: usize,
    mut wrap: impl FnMut(Finding) -> T,
) -> Vec<FindingGroup<T>> {
    let mut groups: HashMap<(LintRule, Severity, Option<FindingVariant>), Vec<Cow<'a, Finding>>> = HashMap::default();
    for f in findings {
        groups.entry((f.rule, f.severity, f.variant())).or_default().push(f);
    }
    let mut out: Vec<FindingGroup<T>> = groups
        .into_iter()
        .map(|((rule, severity, variant), mut all)| {
            let fix = commonest_fix(&all);
            let total = all.len();
            // Newest first; seq ties (two findings of one event) keep creation order.
            all.sort_by_key(|f| std::cmp::Reverse(f.seq));
            all.truncate(per_group);
            let findings = all.into_iter().map(|f| wrap(f.into_owned())).collect();
            FindingGroup { rule, severity, variant, total, fix, findings }
        })
        .collect();
    out.sort_by(|a, b| {
        severity_rank(a.severity)
            .cmp(&severity_rank(b.severity))
            .then(b.total.cmp(&a.total))
            .then_with(|| a.rule.as_str().cmp(b.rule.as_str()))
            .then_with(|| a.variant.map(variant_name).cmp(&b.variant.map(variant_name)))
    });
    out
}

fn variant_name(v: FindingVariant) -> &'static str {
    match v {
        FindingVariant::Illegal => "illegal",
        FindingVariant::Placeholder => "placeholder",
        FindingVariant::ManyDevices => "many_devices",
    }
}

/// The fix most of `findings` give; the first to reach the top count wins a tie.
fn commonest_fix(findings: &[Cow<'_, Finding>]) -> String {
    let mut counts: HashMap<&str, usize> = HashMap::default();
    let mut best: Option<(&str, usize)> = None;
    for f in findings.iter().filter(|f| !f.fix.is_empty()) {
        let n = counts.entry(f.fix.as_str()).or_default();
        *n += 1;
        if best.is_none_or(|(_, top)| *n > top) {
            best = Some((f.fix.as_str(), *n));
        }
    }
    best.map(|(fix, _)| fix.to_owned()).unwrap_or_default()
}
