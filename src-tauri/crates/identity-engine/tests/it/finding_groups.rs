//! `group_findings`: how the warnings view, the CLI and agents receive findings.

use std::borrow::Cow;

use identity_engine::{group_findings, Finding, FindingGroup, FindingVariant, LintRule, Severity};

fn finding(rule: LintRule, severity: Severity, seq: i64) -> Finding {
    Finding {
        rule,
        severity,
        project: "p".into(),
        message: format!("{} {seq}", rule.as_str()),
        fix: String::new(),
        event_uuids: Vec::new(),
        distinct_ids: Vec::new(),
        device_ids: Vec::new(),
        seq,
    }
}

fn grouped(findings: Vec<Finding>, per_group: usize) -> Vec<FindingGroup<Finding>> {
    group_findings(findings.into_iter().map(Cow::Owned), per_group, |f| f)
}

fn seqs(g: &FindingGroup<Finding>) -> Vec<i64> {
    g.findings.iter().map(|f| f.seq).collect()
}

#[test]
fn errors_first_then_bigger_groups_newest_finding_first() {
    use LintRule::*;
    let groups = grouped(
        vec![
            finding(IdentifiedShare, Severity::Info, 1),
            finding(EmailAsDistinctId, Severity::Warning, 2),
            finding(MissingResetBetweenUsers, Severity::Error, 3),
            finding(EmailAsDistinctId, Severity::Warning, 9),
            finding(RepeatedIdentify, Severity::Info, 4),
            finding(RepeatedIdentify, Severity::Info, 5),
        ],
        20,
    );
    let shape: Vec<_> = groups.iter().map(|g| (g.rule, g.severity, seqs(g))).collect();
    assert_eq!(
        shape,
        vec![
            (MissingResetBetweenUsers, Severity::Error, vec![3]),
            (EmailAsDistinctId, Severity::Warning, vec![9, 2]),
            (RepeatedIdentify, Severity::Info, vec![5, 4]),
            (IdentifiedShare, Severity::Info, vec![1]),
        ]
    );
}

#[test]
fn a_group_keeps_its_newest_findings_and_counts_them_all() {
    let findings = (1..=50).map(|seq| finding(LintRule::RepeatedIdentify, Severity::Info, seq)).collect();
    let groups = grouped(findings, 3);
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].total, 50, "total counts the findings not returned");
    assert_eq!(seqs(&groups[0]), vec![50, 49, 48]);
}

#[test]
fn severities_and_generic_id_variants_never_share_a_group() {
    let illegal = finding(LintRule::GenericDistinctId, Severity::Error, 1);
    let placeholder = finding(LintRule::GenericDistinctId, Severity::Warning, 2);
    let many_devices = Finding {
        device_ids: vec!["d1".into(), "d2".into()],
        ..finding(LintRule::GenericDistinctId, Severity::Warning, 3)
    };
    assert_eq!(illegal.variant(), Some(FindingVariant::Illegal));
    assert_eq!(placeholder.variant(), Some(FindingVariant::Placeholder));
    assert_eq!(many_devices.variant(), Some(FindingVariant::ManyDevices));
    assert_eq!(finding(LintRule::SelfAlias, Severity::Warning, 4).variant(), None);

    let groups = grouped(vec![illegal, placeholder, many_devices], 20);
    let shape: Vec<_> = groups.iter().map(|g| (g.severity, g.variant, seqs(g))).collect();
    assert_eq!(
        shape,
        vec![
            (Severity::Error, Some(FindingVariant::Illegal), vec![1]),
            (Severity::Warning, Some(FindingVariant::ManyDevices), vec![3]),
            (Severity::Warning, Some(FindingVariant::Placeholder), vec![2]),
        ]
    );
}

#[test]
fn the_group_fix_is_the_commonest_over_every_finding_not_only_those_returned() {
    let with_fix = |seq, fix: &str| Finding {
        fix: fix.into(),
        ..finding(LintRule::MissingResetBetweenUsers, Severity::Error, seq)
    };
    // The two newest say clearIdentity(); the three older ones reset(), which wins.
    let groups = grouped(
        vec![
            with_fix(1, "Call reset() on logout."),
            with_fix(2, "Call reset() on logout."),
            with_fix(3, "Call reset() on logout."),
            with_fix(4, "Call clearIdentity() on logout."),
            with_fix(5, "Call clearIdentity() on logout."),
            with_fix(6, ""),
        ],
        2,
    );
    assert_eq!(groups[0].fix, "Call reset() on logout.");
    assert_eq!(seqs(&groups[0]), vec![6, 5]);
}
