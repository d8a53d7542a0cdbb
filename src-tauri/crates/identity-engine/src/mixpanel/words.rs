//! Mixpanel's words for lanes and findings (see `words.rs`).

use crate::words::{ManyUserIds, Words};

pub(crate) const WORDS: Words = Words {
    reset_call: "reset()",
    reset_evidence: "its first distinct id is $device:<this device id>, as mixpanel-browser sets after reset()",
    reset_replaced: "mixpanel-browser made the new $device_id",
    missing_reset: |device, from, to| {
        format!(
            "Device '{device}' went from $user_id '{from}' to $user_id '{to}' without reset(). Mixpanel's \
             cluster of this $device_id already holds '{from}', so '{to}' is refused there and keeps a \
             cluster of its own; the device's history stays with '{from}'."
        )
    },
    fix_missing_reset: "Call mixpanel.reset() when a user logs out, before the next user's identify: it \
            makes a new $device_id.",
    alias_after_identify: |alias, id| {
        format!(
            "alias('{alias}') was sent after '{id}' had already been identified. Mixpanel, Simplified ID \
             Merge: $create_alias has no functionality at all, so this alias links nothing. Mixpanel, \
             Original ID Merge: aliasing into an identified cluster is allowed, so the alias joins it \
             unless it already points to another distinct id. Mixpanel's legacy advice is to alias once, at \
             signup, before identify."
        )
    },
    identify_cost: "a call it processes",
    id_word: "user id",
    linked_together: Some(|from, to| {
        format!(
            "identify: '{from}' (anonymous) and $user_id '{to}' arrived on one event with this $device_id, \
             so Mixpanel (Simplified ID Merge) puts them in one cluster unless it already holds another \
             $user_id; Original ID Merge links only through $identify, alias and $merge."
        )
    }),
    many_user_ids: Some(ManyUserIds {
        anonymous_field: "$device_id",
        user_field: "$user_id",
        anonymous_word: "$device_id",
        fix: "Call mixpanel.reset() at logout so each user gets a new $device_id.",
    }),
};
