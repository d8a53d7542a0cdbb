//! PostHog's words for lanes and findings (see `words.rs`).

use crate::words::Words;

pub(crate) const WORDS: Words = Words {
    reset_call: "reset(true)",
    reset_evidence: "this device id equals its first distinct id, as posthog-js sets both after reset(true)",
    reset_replaced: "posthog-js replaced both the distinct id and $device_id with",
    missing_reset: |device, from, to| {
        format!(
            "Device '{device}' went from user '{from}' to user '{to}' without reset(). posthog-js sends no \
             $identify for the second user, so PostHog does not link '{to}' to the device's anonymous history \
             or mark it identified, and both users share this $device_id and its sessions. The iOS and \
             Android SDKs would even ignore identify('{to}') and keep sending that user's events as '{from}'."
        )
    },
    fix_missing_reset: "Call posthog.reset() when a user logs out (reset(true) to also rotate $device_id on \
            shared devices), before the next user's identify.",
    alias_after_identify: |alias, id| {
        format!(
            "alias('{alias}') was sent after '{id}' had already been identified with $identify. PostHog \
             adds '{alias}' to the person of '{id}' (unless '{alias}' belongs to another identified person, \
             which it refuses): if '{alias}' is another user's id, the two users are now one person."
        )
    },
    identify_cost: "an identified event it processes and bills",
    id_word: "distinct id",
    linked_together: None,
    many_user_ids: None,
};
