//! KISSmetrics' words for lanes and findings (see `words.rs`), after
//! <https://support.kissmetrics.io/docs/multiple-people-on-the-same-browser> and
//! <https://support.kissmetrics.io/docs/identities>.

use crate::words::Words;

pub(crate) const WORDS: Words = Words {
    reset_call: "clearIdentity()",
    reset_evidence: "it starts on a new anonymous identity, as the KISSmetrics JS library assigns after \
        clearIdentity() or identify(null)",
    reset_replaced: "the KISSmetrics JS library assigned the new anonymous identity",
    missing_reset: |device, from, to| {
        format!(
            "Browser '{device}' went from '{from}' to '{to}' without clearIdentity(). KISSmetrics does not \
             alias two named identities on identify, so '{from}' and '{to}' stay two people, but everything \
             this browser did before '{to}' was identified (the next visitor's anonymous activity) is \
             attributed to '{from}'."
        )
    },
    fix_missing_reset: "Call _kmq.push(['clearIdentity']) (or identify with null) when a user logs out, so \
        the next visitor starts on a new anonymous identity.",
    alias_after_identify: |alias, id| {
        format!(
            "alias('{alias}') was sent for '{id}', which was already identified. KISSmetrics accepts every \
             alias and never undoes it: both identities are now one person, whoever they belong to."
        )
    },
    identify_cost: "a call KISSmetrics records",
    id_word: "identity",
    linked_together: None,
    many_user_ids: None,
};
