//! Segment's words for lanes and findings (see `words.rs`).

use crate::words::{ManyUserIds, Words};

pub(crate) const WORDS: Words = Words {
    reset_call: "reset()",
    reset_evidence: "this lane starts anonymous on a new anonymousId, as analytics.js does after reset()",
    reset_replaced: "analytics.js cleared the user id and made the new anonymousId",
    missing_reset: |device, from, to| {
        format!(
            "Device '{device}' went from user '{from}' to user '{to}' on the same anonymousId, without \
             reset(). Segment links every id on a message, so the anonymousId's profile already holds \
             user_id '{from}': '{to}' cannot join it (1 user_id per profile) and the device's anonymous \
             history stays with '{from}'."
        )
    },
    fix_missing_reset: "Call analytics.reset() when a user logs out, before the next user's identify: it \
            clears the user id and makes a new anonymousId.",
    alias_after_identify: |alias, id| {
        format!(
            "alias('{alias}') was sent after '{id}' had already been identified. Segment Unify links \
             nothing on an alias (\"Alias calls can't be used to merge profiles in Unify\", Spec: Alias), and \
             destinations with alias semantics (Mixpanel's Original ID Merge) expect alias once, at signup, before \
             identify: sent later, the link is refused there."
        )
    },
    identify_cost: "a call it processes",
    id_word: "user id",
    linked_together: Some(|from, to| {
        format!(
            "identify: the anonymousId '{from}' and the userId '{to}' arrived on one message, so Segment \
             links them into one profile (unless that would break an identifier limit, such as 1 user_id per \
             profile)."
        )
    }),
    many_user_ids: Some(ManyUserIds {
        anonymous_field: "anonymousId",
        user_field: "userId",
        anonymous_word: "anonymousId",
        fix: "Call analytics.reset() at logout so each user gets a new anonymousId; on the server, send the \
            anonymousId of the user's own browser, never a shared constant.",
    }),
};
