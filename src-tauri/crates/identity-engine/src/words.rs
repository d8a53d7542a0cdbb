//! `Words`: what differs between vendors in the sentences the lanes and the findings write
//! (the SDK's reset call, how a switch of user plays out, what an identify costs). Each vendor
//! module has its `WORDS` (`posthog/words.rs`, ...); `engine::vendor(family).words` picks them.
//! Sentences that differ only by the vendor's name or its word for a person use
//! `Family::vendor` and `Family::person_word` instead.

pub(crate) struct Words {
    /// The SDK call that starts a new lane on the same browser ("reset(true)", "reset()").
    pub reset_call: &'static str,
    /// Why a fresh lane looks like that call's result.
    pub reset_evidence: &'static str,
    /// What the SDK replaced, completing "... '<new device id>'".
    pub reset_replaced: &'static str,
    /// `missing_reset_between_users`: (device, from user, to user) -> what the vendor does.
    pub missing_reset: fn(&str, &str, &str) -> String,
    pub fix_missing_reset: &'static str,
    /// `alias_after_identify`: (alias, the identified id) -> why it is late.
    pub alias_after_identify: fn(&str, &str) -> String,
    /// `repeated_identify`: what each repeat is to the vendor.
    pub identify_cost: &'static str,
    /// What the vendor calls the id an event is sent as ("distinct id", "user id").
    pub id_word: &'static str,
    /// A lane's anonymous id and user id arrived on one event: (from, to) -> how the vendor links
    /// them. None: the vendor links only through identify events (PostHog's own sentences).
    pub linked_together: Option<fn(&str, &str) -> String>,
    /// `anonymous_id_with_many_user_ids`, for vendors whose messages carry both ids.
    pub many_user_ids: Option<ManyUserIds>,
}

/// Where a vendor's message carries its anonymous and user id, and the rule's words.
pub(crate) struct ManyUserIds {
    pub anonymous_field: &'static str,
    pub user_field: &'static str,
    /// The anonymous id's name in sentences ("anonymousId", "$device_id").
    pub anonymous_word: &'static str,
    pub fix: &'static str,
}
