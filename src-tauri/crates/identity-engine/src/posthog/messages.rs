//! The sentences behind PostHog's decisions and warnings. Each names the distinct ids involved, what
//! PostHog did, and (for refusals) why, so a developer can act on it without reading PostHog's source.

use super::illegal::is_illegal_distinct_id;
use crate::types::{time, EventRef, Person};

/// An id in single quotes, written straight into the sentence it is part of: a `String` per id
/// cost a second `format!` per quoted id, and every merge-type event writes a sentence.
fn q(id: &str) -> Quoted<'_> {
    Quoted(id)
}

struct Quoted<'a>(&'a str);

impl std::fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write;
        f.write_char('\'')?;
        f.write_str(self.0)?;
        f.write_char('\'')
    }
}

/// Appended wherever a person is created for an illegal id: PostHog does it silently.
fn illegal_person_note(id: &str) -> String {
    if is_illegal_distinct_id(id) {
        format!(
            " WARNING: {} is a placeholder id PostHog refuses to merge, yet it still creates this person, \
             and every user whose SDK sends {} lands on it.",
            q(id),
            q(id)
        )
    } else {
        String::new()
    }
}

pub(crate) fn person_created(ev: &str, id: &str) -> String {
    format!("Created a new anonymous (not identified) person for {} from this {ev}.{}", q(id), illegal_person_note(id))
}

/// What the normal processing that follows an ignored or refused merge did to `target`.
pub(crate) fn then_normal(target: &str, created: bool) -> String {
    if created {
        format!(
            " The event was processed as a normal event: it created an anonymous person for {}.{}",
            q(target),
            illegal_person_note(target)
        )
    } else {
        format!(" The event was processed as a normal event for {} (property updates only).", q(target))
    }
}

pub(crate) fn same_distinct_id(ev: &str, id: &str) -> String {
    format!(
        "Nothing to merge: this {ev} names {} as both the source and the target, so PostHog skips the merge.",
        q(id)
    )
}

pub(crate) fn illegal(ev: &str, illegal: &str, source: &str, target: &str) -> String {
    let role = if illegal == target { "the target, i.e. the event's distinct id" } else { "the source" };
    format!(
        "Not merged: {} ({role}) is an illegal distinct id, so PostHog refuses to link {} with {} \
         (warning cannot_merge_with_illegal_distinct_id). Fix the {ev} call to send the real user id.",
        q(illegal),
        q(source),
        q(target)
    )
}

pub(crate) fn merge_created(source: &str, target: &str, primary: &str, seen_personless: bool) -> String {
    let uuid_note = if seen_personless && primary == source {
        format!(
            " Its uuid derives from {} because that id had already been used on personless events, \
             so those earlier events already point at this person.",
            q(source)
        )
    } else {
        String::new()
    };
    format!(
        "Created one identified person owning {} and {}: neither id had a person yet.{uuid_note}",
        q(target),
        q(source)
    )
}

pub(crate) fn attached(new_id: &str, owner_id: &str, person: &Person) -> String {
    format!(
        "Attached {} to the existing person of {} ({}); {} had no person of its own. No identified check \
         applies here; the person is now identified.",
        q(new_id),
        q(owner_id),
        person.label(),
        q(new_id)
    )
}

pub(crate) fn same_person(source: &str, target: &str) -> String {
    format!(
        "Nothing to merge: {} and {} already belong to the same person; it is now marked identified.",
        q(source),
        q(target)
    )
}

pub(crate) fn identified_by(p: &Person) -> String {
    match &p.identified_by {
        Some(by) => format!("identified by {} at {}, event #{}", by.event, time(by.timestamp), by.seq),
        None => "identified".to_owned(),
    }
}

pub(crate) fn refused(source: &str, target: &str, source_person: &Person) -> String {
    format!(
        "Not merged: {source} already belongs to an identified person ({}, {}). PostHog only merges an \
         identified person with $merge_dangerously. {target} keeps its own person, which still gets this \
         event's property updates and is now identified.",
        source_person.label(),
        identified_by(source_person)
    )
}

pub(crate) fn merged(
    source: &str,
    target: &str,
    source_person: &Person,
    target_person: &Person,
    dangerous: bool,
) -> String {
    let why = if dangerous {
        format!(
            " The source person was already identified ({}); only $merge_dangerously may merge it.",
            identified_by(source_person)
        )
    } else {
        String::new()
    };
    format!(
        "Merged the person of {} ({} id{}: {}) into the person of {} ({}): the target's properties win \
         clashes, created_at is the earlier of the two, and the person of {} was deleted.{why}",
        q(source),
        source_person.distinct_ids.len(),
        if source_person.distinct_ids.len() == 1 { "" } else { "s" },
        source_person.distinct_ids.join(", "),
        q(target),
        target_person.label(),
        q(source)
    )
}

pub(crate) fn identify_without_anon_id(target: &str) -> String {
    format!(
        "{} sent $identify without $anon_distinct_id: PostHog links nothing and does not mark the person \
         identified; it only applies the property updates (typical of a backend identify).",
        q(target)
    )
}

pub(crate) fn alias_missing(ev: &str, target: &str) -> String {
    format!("{ev} from {} has no usable 'alias' property (missing or falsy): nothing was merged.", q(target))
}

pub(crate) fn dropped(by: &EventRef, distinct_id: &str, source: Option<&str>) -> String {
    let link = match source {
        Some(s) => format!(" {} and {} were not linked.", q(s), q(distinct_id)),
        None => String::new(),
    };
    format!(
        "Dropped: this {} from {} was sent with $process_person_profile=false, and PostHog drops \
         $identify, $create_alias, $merge_dangerously and $groupidentify when person processing is off \
         (warning invalid_event_when_process_person_profile_is_false).{link}",
        by.event,
        q(distinct_id)
    )
}

pub(crate) fn invalid_process_person_profile(value: &serde_json::Value) -> String {
    format!("$process_person_profile is {value}, not a boolean: PostHog treats it as true and processes the person.")
}

pub(crate) fn server_identify_warning(target: &str) -> String {
    format!("$identify for {} carries no $anon_distinct_id: it links no anonymous id.", q(target))
}

pub(crate) fn group_key_too_long(len: usize) -> String {
    format!(
        "PostHog dropped this $groupidentify: its $group_key is {len} characters long, over PostHog's limit \
         of 400 (ingestion warning group_key_too_long). The group gets no properties and no person changes."
    )
}
