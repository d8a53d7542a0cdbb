//! RudderStack's words for lanes and findings (see `words.rs`), true of
//! @rudderstack/analytics-js v3 (`packages/analytics-js/src/components/core/Analytics.ts` in
//! <https://github.com/rudderlabs/rudder-sdk-js>): `reset()` keeps the anonymousId unless called
//! as `reset(true)`, `identify()` with another user id runs that plain reset itself, and
//! `alias(to)` sends `to` as one message's userId without changing the SDK's user id.

use crate::words::{ManyUserIds, Words};

pub(crate) const WORDS: Words = Words {
    reset_call: "reset(true)",
    reset_evidence: "this lane starts anonymous on a new anonymousId, as @rudderstack/analytics-js does after \
        reset(true) (a plain reset() keeps the anonymousId)",
    reset_replaced: "analytics-js cleared the user id and made the new anonymousId",
    missing_reset: |device, from, to| {
        format!(
            "Device '{device}' went from user '{from}' to user '{to}' on the same anonymousId. \
             @rudderstack/analytics-js v3 keeps the anonymousId on a plain reset() (also on the one it runs \
             itself when identify() names another user); only reset(true) makes a new one. RudderStack's \
             Profiles ID stitcher joins every pair of ids seen on one message, so through the shared \
             anonymousId '{from}' and '{to}' end up in one rudder_id."
        )
    },
    fix_missing_reset: "Call rudderanalytics.reset(true) when a user logs out, before the next user's identify: \
        it clears the user id and makes a new anonymousId (a plain reset() keeps the anonymousId).",
    alias_after_identify: |alias, id| {
        format!(
            "alias('{alias}') was sent after '{id}' had already been identified. RudderStack \
             forwards it to destinations as it is; those with alias semantics (Mixpanel's Original ID Merge) \
             expect alias once, at signup, before identify: sent later, the link is refused there."
        )
    },
    identify_cost: "an event it stores",
    id_word: "user id",
    linked_together: Some(|from, to| {
        format!(
            "identify: the anonymousId '{from}' and the userId '{to}' arrived on one message, so RudderStack's \
             Profiles ID stitcher joins them into one rudder_id when it next runs in the warehouse."
        )
    }),
    many_user_ids: Some(ManyUserIds {
        anonymous_field: "anonymousId",
        user_field: "userId",
        anonymous_word: "anonymousId",
        fix: "Call rudderanalytics.reset(true) at logout so each user gets a new anonymousId (a plain reset() \
            keeps it); on the server, send the anonymousId of the user's own browser, never a shared constant.",
    }),
};
