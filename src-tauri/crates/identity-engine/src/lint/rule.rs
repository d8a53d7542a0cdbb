//! What a finding is about (`LintRule`) and how bad it is (`Severity`), serialised as the
//! snake_case names the UI keys on.

use serde::Serialize;

use crate::types::WarningKind;

/// The rule behind a finding: an engine warning (same names as `WarningKind`) or a lint rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum LintRule {
    CannotMergeWithIllegalDistinctId,
    CannotMergeAlreadyIdentified,
    InvalidEventWhenProcessPersonProfileIsFalse,
    InvalidProcessPersonProfile,
    ServerIdentifyWithoutAnonId,
    BlockedIdentifierValue,
    ProfileUserIdLimit,
    ClusterAlreadyHasUserId,
    SelfAlias,
    GroupKeyTooLong,
    /// An illegal or placeholder-looking id, or one id identified on many devices.
    GenericDistinctId,
    EmailAsDistinctId,
    MissingResetBetweenUsers,
    IdentifiedBeforeIdentify,
    RepeatedIdentify,
    AliasAfterIdentify,
    /// PostHog: the project's share of identified events (billing).
    IdentifiedShare,
    /// Segment/Mixpanel: one anonymous id sent with several user ids.
    AnonymousIdWithManyUserIds,
    /// KISSmetrics: one placeholder id, or one id, aliased to many people.
    SquishedIdentities,
    /// Two ids that were each a user id (PostHog identify target or id of identified events, an
    /// alias value only once it is one; userId, `$user_id`, a named identity) ended in one
    /// person: two real users merged.
    DistinctUsersMerged,
    /// An identify or alias only ever sent in requests a fault rule answered: the vendor would
    /// not have joined its ids (see `undelivered.rs`).
    UndeliveredIdentify,
}

impl LintRule {
    pub fn as_str(self) -> &'static str {
        match self {
            LintRule::CannotMergeWithIllegalDistinctId => WarningKind::CannotMergeWithIllegalDistinctId.as_str(),
            LintRule::CannotMergeAlreadyIdentified => WarningKind::CannotMergeAlreadyIdentified.as_str(),
            LintRule::InvalidEventWhenProcessPersonProfileIsFalse => {
                WarningKind::InvalidEventWhenProcessPersonProfileIsFalse.as_str()
            }
            LintRule::InvalidProcessPersonProfile => WarningKind::InvalidProcessPersonProfile.as_str(),
            LintRule::ServerIdentifyWithoutAnonId => WarningKind::ServerIdentifyWithoutAnonId.as_str(),
            LintRule::BlockedIdentifierValue => WarningKind::BlockedIdentifierValue.as_str(),
            LintRule::ProfileUserIdLimit => WarningKind::ProfileUserIdLimit.as_str(),
            LintRule::ClusterAlreadyHasUserId => WarningKind::ClusterAlreadyHasUserId.as_str(),
            LintRule::SelfAlias => WarningKind::SelfAlias.as_str(),
            LintRule::GroupKeyTooLong => WarningKind::GroupKeyTooLong.as_str(),
            LintRule::GenericDistinctId => "generic_distinct_id",
            LintRule::EmailAsDistinctId => "email_as_distinct_id",
            LintRule::MissingResetBetweenUsers => "missing_reset_between_users",
            LintRule::IdentifiedBeforeIdentify => "identified_before_identify",
            LintRule::RepeatedIdentify => "repeated_identify",
            LintRule::AliasAfterIdentify => "alias_after_identify",
            LintRule::IdentifiedShare => "identified_share",
            LintRule::AnonymousIdWithManyUserIds => "anonymous_id_with_many_user_ids",
            LintRule::SquishedIdentities => "squished_identities",
            LintRule::DistinctUsersMerged => "distinct_users_merged",
            LintRule::UndeliveredIdentify => "undelivered_identify",
        }
    }
}

impl std::str::FromStr for LintRule {
    type Err = ();

    /// A rule by its snake_case name (`as_str`).
    fn from_str(name: &str) -> Result<LintRule, ()> {
        LintRule::ALL.into_iter().find(|r| r.as_str() == name).ok_or(())
    }
}

impl LintRule {
    /// Every rule, in declaration order.
    pub const ALL: [LintRule; 21] = [
        LintRule::CannotMergeWithIllegalDistinctId,
        LintRule::CannotMergeAlreadyIdentified,
        LintRule::InvalidEventWhenProcessPersonProfileIsFalse,
        LintRule::InvalidProcessPersonProfile,
        LintRule::ServerIdentifyWithoutAnonId,
        LintRule::BlockedIdentifierValue,
        LintRule::ProfileUserIdLimit,
        LintRule::ClusterAlreadyHasUserId,
        LintRule::SelfAlias,
        LintRule::GroupKeyTooLong,
        LintRule::GenericDistinctId,
        LintRule::EmailAsDistinctId,
        LintRule::MissingResetBetweenUsers,
        LintRule::IdentifiedBeforeIdentify,
        LintRule::RepeatedIdentify,
        LintRule::AliasAfterIdentify,
        LintRule::IdentifiedShare,
        LintRule::AnonymousIdWithManyUserIds,
        LintRule::SquishedIdentities,
        LintRule::DistinctUsersMerged,
        LintRule::UndeliveredIdentify,
    ];
}

impl From<WarningKind> for LintRule {
    fn from(kind: WarningKind) -> LintRule {
        match kind {
            WarningKind::CannotMergeWithIllegalDistinctId => LintRule::CannotMergeWithIllegalDistinctId,
            WarningKind::CannotMergeAlreadyIdentified => LintRule::CannotMergeAlreadyIdentified,
            WarningKind::InvalidEventWhenProcessPersonProfileIsFalse => {
                LintRule::InvalidEventWhenProcessPersonProfileIsFalse
            }
            WarningKind::InvalidProcessPersonProfile => LintRule::InvalidProcessPersonProfile,
            WarningKind::ServerIdentifyWithoutAnonId => LintRule::ServerIdentifyWithoutAnonId,
            WarningKind::BlockedIdentifierValue => LintRule::BlockedIdentifierValue,
            WarningKind::ProfileUserIdLimit => LintRule::ProfileUserIdLimit,
            WarningKind::ClusterAlreadyHasUserId => LintRule::ClusterAlreadyHasUserId,
            WarningKind::SelfAlias => LintRule::SelfAlias,
            WarningKind::GroupKeyTooLong => LintRule::GroupKeyTooLong,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}
