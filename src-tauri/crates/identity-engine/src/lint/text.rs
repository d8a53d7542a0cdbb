//! Wording of findings: what the vendor does with the traffic, and the fix. Kept apart from the
//! rules so the checks read as logic.

use super::rule::Severity;
use crate::engine::vendor;
use crate::family::Family;
use crate::types::WarningKind;

/// (severity, fix) of a finding made from an engine warning.
pub(crate) fn warning_kind(kind: WarningKind) -> (Severity, &'static str) {
    match kind {
        WarningKind::CannotMergeWithIllegalDistinctId => (
            Severity::Error,
            "Pass the real user id (your database id) to identify/alias, never a placeholder such as null, \
             undefined or 'anonymous'; make sure the value is loaded before the call.",
        ),
        WarningKind::CannotMergeAlreadyIdentified => (
            Severity::Warning,
            "If both ids really are one user, merge them with $merge_dangerously (alias and identify cannot \
             merge an already identified person); if they are different users, call reset() at logout so \
             one device does not carry both.",
        ),
        WarningKind::InvalidEventWhenProcessPersonProfileIsFalse => (
            Severity::Error,
            "Do not send $identify, $create_alias, $merge_dangerously or $groupidentify with \
             $process_person_profile: false; with person_profiles 'identified_only' call identify(), which \
             turns person processing on.",
        ),
        WarningKind::InvalidProcessPersonProfile => (
            Severity::Warning,
            "Send $process_person_profile as a JSON boolean (true or false), not a string or number.",
        ),
        WarningKind::ServerIdentifyWithoutAnonId => (
            Severity::Info,
            "A backend identify only updates properties. To link a frontend's anonymous id from the \
             backend, send $anon_distinct_id with the $identify (or call alias); otherwise prefer a $set.",
        ),
        WarningKind::BlockedIdentifierValue => (
            Severity::Error,
            "Send the real id (your database id) or leave the field out; never a placeholder such as null, 0, \
             -1, anonymous or an empty string: the vendor ignores it, so these events link to nobody.",
        ),
        WarningKind::ProfileUserIdLimit => (
            Severity::Warning,
            "Call reset() at logout so the next user gets a new anonymousId; if both user ids really are one \
             person, raise the user_id limit in Segment's Identity Resolution Settings (an alias merges nothing \
             in Unify). On a shared device, the device id (android.id / ios.id) ties every user of it \
             together: Segment keeps it with the first user's profile and drops it from the others' messages.",
        ),
        WarningKind::ClusterAlreadyHasUserId => (
            Severity::Warning,
            "Call mixpanel.reset() at logout so the next user gets a new $device_id; one device cluster can \
             hold one $user_id only.",
        ),
        WarningKind::SelfAlias => (
            Severity::Warning,
            "Call alias(newUserId, previousId) with the id the user had before (usually the anonymous id), \
             or drop the call: identify already links the anonymous id.",
        ),
        WarningKind::GroupKeyTooLong => (
            Severity::Error,
            "Use a group key of at most 400 characters (an id, not a description); PostHog drops the whole \
             $groupidentify otherwise.",
        ),
    }
}

pub(crate) const FIX_GENERIC: &str = "Send a unique, stable id per user (your database id). While the user is \
    unknown, let the SDK keep its own anonymous id instead of passing a placeholder.";

pub(crate) fn illegal_id(id: &str, n: usize) -> String {
    format!(
        "'{id}' is not a real user id. PostHog refuses to merge it with anything, yet still stores these \
         events and creates one person called '{id}' that collects every user whose code sends it \
         ({n} event{} so far).",
        if n == 1 { "" } else { "s" }
    )
}

pub(crate) fn placeholder_id(id: &str, n: usize, family: Family) -> String {
    format!(
        "'{id}' looks like a placeholder, not a unique user id. {} treats it as a real id, so every \
         user that sends it becomes the same {} ({n} event{} so far).",
        family.vendor(),
        family.person_word(),
        if n == 1 { "" } else { "s" }
    )
}

pub(crate) fn many_devices(id: &str, lanes: usize) -> String {
    format!(
        "'{id}' is identified on {lanes} unrelated devices. PostHog puts all of their events on one \
         person: fine if it is one person on several devices, wrong if the id is shared (a constant, a \
         shared test account, or a bug)."
    )
}

pub(crate) fn missing_reset(device: &str, from: &str, to: &str, family: Family) -> String {
    (vendor(family).words.missing_reset)(device, from, to)
}

pub(crate) fn fix_missing_reset(family: Family) -> String {
    vendor(family).words.fix_missing_reset.to_owned()
}

pub(crate) fn before_identify(event: &str, device: &str, anon: &str, family: Family) -> String {
    if vendor(family).links_event_ids {
        return format!(
            "'{event}' was captured on device '{device}' while it was still anonymous ('{anon}'), before \
             identify. {} files it under the anonymous id; only a later event carrying both that id and the \
             user id links it to the user, and events sent server-side for the user never join it.",
            family.vendor()
        );
    }
    format!(
        "'{event}' was captured on device '{device}' while it was still anonymous ('{anon}'), before \
         identify. PostHog records it on the anonymous id (personless when person_profiles is \
         'identified_only', so no person properties at that time); only a later identify from this same \
         anonymous id links it to the user, and events sent server-side for the user never join it."
    )
}

pub(crate) const FIX_BEFORE_IDENTIFY: &str = "Call identify(userId) as soon as the account exists or the \
    login succeeds, then capture the signup/login event.";

pub(crate) fn repeated_identify(id: &str, n: usize, session: &str, family: Family) -> String {
    let session =
        if session.is_empty() { "without a session id".to_owned() } else { format!("in session '{session}'") };
    let cost = vendor(family).words.identify_cost;
    format!(
        "identify('{id}') with the same properties was sent {n} times {session}. {} learns nothing \
         new from the repeats, but each is {cost}.",
        family.vendor()
    )
}

pub(crate) const FIX_REPEATED: &str = "Call identify once per session (after login or on app load). \
    posthog-js skips exact repeats itself, so repeats come from custom $identify captures or from \
    re-creating the SDK.";

pub(crate) fn alias_after_identify(alias: &str, id: &str, family: Family) -> String {
    (vendor(family).words.alias_after_identify)(alias, id)
}

/// The fix for `alias_after_identify`, in the words of the project's vendor.
pub(crate) fn fix_alias(family: Family) -> String {
    match family {
        Family::PostHog => "In PostHog, identify(userId) alone links the anonymous id: do not call alias() for a \
            user who is already identified (it adds the alias to that user's person), and call posthog.reset() at \
            logout so the next user does not inherit the id."
            .to_owned(),
        Family::KissMetrics => FIX_SQUISHED_ALIAS.to_owned(),
        _ => "Call alias once, at signup, before the first identify (destinations with alias semantics expect \
            that order), and call reset() at logout so the next user does not inherit the id."
            .to_owned(),
    }
}

/// What `distinct_users_merged` quotes: the two users, the event that joined them and what
/// its device was identified as just before.
pub(crate) struct UsersMerged<'a> {
    pub had: &'a str,
    pub joined: &'a str,
    pub event: &'a str,
    pub event_uuid: &'a str,
    pub device: &'a str,
    /// The id the device's latest identified segment before the event was on.
    pub previous: Option<&'a str>,
    /// The device's latest event whose name does not start with `$`, before this one.
    pub last_event: Option<&'a str>,
    /// The lane shows a reset() since `previous` was identified.
    pub reset_since: bool,
    /// The later event (name, uuid) that showed the joined id is a user of its own, when the
    /// joining event was an alias of an id that was not one yet.
    pub shown_by: Option<(&'a str, &'a str)>,
    pub family: Family,
}

/// How each vendor's user ids come to be, for the sentence.
fn user_id_word(family: Family) -> &'static str {
    match family {
        Family::PostHog => "an identify target or the id of identified events",
        Family::Segment | Family::RudderStack => "a userId",
        Family::Mixpanel => "a $user_id (identified id)",
        Family::KissMetrics => "a named identity",
    }
}

pub(crate) fn users_merged(m: &UsersMerged) -> String {
    let v = m.family.vendor();
    let word = match m.family {
        Family::RudderStack => "profile (rudder_id)",
        other => other.person_word(),
    };
    let mut text = format!(
        "Two users are now one {v} {word}: '{}' and '{}' were each {}, and `{}` (event {}) on device '{}' joined \
         them. {v} now mixes their events and properties in one {word}.",
        m.had,
        m.joined,
        user_id_word(m.family),
        m.event,
        m.event_uuid,
        m.device
    );
    if let Some((event, uuid)) = m.shown_by {
        text.push_str(&format!(
            " Until `{event}` (event {uuid}) showed '{}' is a user of its own (identified as it), it was just a \
             second id of '{}'.",
            m.joined, m.had
        ));
    }
    let reset = reset_call(m.family);
    match (m.previous.filter(|p| *p != m.joined), m.last_event) {
        (None, _) => {}
        (Some(previous), last) if m.reset_since => {
            text.push_str(&format!(" Just before, this device was identified as '{previous}'"));
            text.push_str(&match last {
                Some(last) => format!(" (last event `{last}`); a {reset} happened since."),
                None => format!("; a {reset} happened since."),
            });
        }
        (Some(previous), Some(last)) => text.push_str(&format!(
            " Just before, this device was still identified as '{previous}'; no {reset} after `{last}`."
        )),
        (Some(previous), None) => text.push_str(&format!(
            " Just before, this device was still identified as '{previous}', with no {reset} in between."
        )),
    }
    text
}

/// The call that gives the next user of a device a fresh anonymous id, in the SDK's words:
/// @rudderstack/analytics-js v3 keeps the anonymousId on a plain reset(), and KISSmetrics'
/// library calls it clearIdentity().
pub(crate) fn reset_call(family: Family) -> &'static str {
    match family {
        Family::RudderStack => "reset(true)",
        Family::KissMetrics => "clearIdentity()",
        Family::PostHog | Family::Segment | Family::Mixpanel => "reset()",
    }
}

/// The fix for `distinct_users_merged`: reset at logout, in the vendor's words, plus what not
/// to call where the vendor merges on it.
pub(crate) fn fix_users_merged(family: Family) -> String {
    let reset = fix_missing_reset(family);
    match family {
        Family::PostHog => format!(
            "{reset} Do not call alias() for a user who is already identified: PostHog adds the alias to that \
             user's person, so a signup that aliases the new user id merges it into the previous user."
        ),
        Family::KissMetrics => format!("{reset} {FIX_SQUISHED_ALIAS}"),
        _ => reset,
    }
}

pub(crate) fn email_id(id: &str, family: Family) -> String {
    format!(
        "The {} '{id}' is an email address. When the user changes their email {} sees a new \
         id and a new {}, and the address is copied onto every event.",
        vendor(family).words.id_word,
        family.vendor(),
        family.person_word()
    )
}

pub(crate) const FIX_EMAIL: &str = "Use your database user id as the distinct id and send the email as a \
    person property ($set: {email}).";

pub(crate) fn share(identified: usize, anonymous: usize) -> String {
    let total = identified + anonymous;
    let pct = |n: usize| if total == 0 { 0.0 } else { n as f64 * 100.0 / total as f64 };
    format!(
        "{identified} of {total} events ({:.0}%) are identified (person profiles processed) and \
         {anonymous} ({:.0}%) anonymous (personless). PostHog bills identified events up to 4x more than \
         anonymous ones.",
        pct(identified),
        pct(anonymous)
    )
}

pub(crate) const FIX_SHARE: &str = "Keep person_profiles: 'identified_only' (the default) and identify only \
    real, logged-in users; anonymous browsing does not need person profiles.";

pub(crate) fn many_user_ids(anon: &str, users: &[String], family: Family, what: &str) -> String {
    let list = users.iter().map(|u| format!("'{u}'")).collect::<Vec<_>>().join(", ");
    if family == Family::RudderStack {
        // The ID stitcher has no user id limit: the shared anonymousId joins them all.
        return format!(
            "The {what} '{anon}' was sent with {} different user ids ({list}). RudderStack's Profiles ID \
             stitcher joins every pair of ids seen on one message, so all of these users end up in one \
             rudder_id through the shared {what}.",
            users.len()
        );
    }
    format!(
        "The {what} '{anon}' was sent with {} different user ids ({}). {} links the {what} to the first \
         one only (one user id per {}); the others are refused, and their events on this device are not \
         joined to their anonymous history.",
        users.len(),
        users.iter().map(|u| format!("'{u}'")).collect::<Vec<_>>().join(", "),
        family.vendor(),
        family.person_word()
    )
}

pub(crate) fn squished_placeholder(id: &str, joined: &[String]) -> String {
    format!(
        "'{id}' is a placeholder, not a person, yet it was aliased with {} identities ({}). KISSmetrics \
         refuses no identity and never undoes an alias, so all of them are now one person ('identify \
         squishing'): their events and properties are mixed in every report, and what is already \
         recorded cannot be separated.",
        joined.len(),
        quoted(joined)
    )
}

pub(crate) const FIX_SQUISHED_PLACEHOLDER: &str = "Never identify or alias with a default value: check the \
    identity before _kmq.push(['identify', ...]) and skip the call when it is 'anonymous', empty or a \
    variable's default; the JS library then keeps its own anonymous id. Already squished data stays \
    squished.";

pub(crate) fn squished_alias(id: &str, joined: &[String]) -> String {
    format!(
        "'{id}' was aliased with {} identities ({}), several of them named. KISSmetrics never refuses \
         or undoes an alias, so these people are now one person ('alias squishing') and cannot be \
         split again.",
        joined.len(),
        quoted(joined)
    )
}

pub(crate) const FIX_SQUISHED_ALIAS: &str = "Call alias only for two identities of the same person (the JS \
    library already aliases the anonymous id when it identifies a visitor). When another user logs in on \
    the same browser, call clearIdentity() at logout and identify the new user; do not alias them.";

fn quoted(ids: &[String]) -> String {
    ids.iter().map(|u| format!("'{u}'")).collect::<Vec<_>>().join(", ")
}
