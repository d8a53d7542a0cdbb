//! The sentence behind each lane transition, written when a transition is serialised or asked
//! for rather than stored: a lane keeps a few words of state per transition instead of a
//! paragraph, which is most of a rebuilt model's memory otherwise.

use super::Transition;
use crate::engine::vendor;
use crate::family::Family;

/// Which sentence explains a transition; the ids come from the transition's `from` and `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Why {
    /// A `$identify` event linked the anonymous id to the user id.
    Identify,
    /// The same, but sent with `$process_person_profile=false`: PostHog dropped it.
    IdentifyDropped,
    /// Anonymous to user with no `$identify` seen (yet).
    IdentifyInferred,
    /// `alias()` called by `to` for `from`.
    Alias,
    /// A change to another id of the same person.
    SamePerson,
    /// `$set` event: the property keys it named.
    Set(Box<[String]>),
    SwitchWithoutReset,
    /// From an identified id to a new anonymous one.
    ResetAfterUser,
    /// From one anonymous id to another.
    ResetWhileAnonymous,
    /// Segment/Mixpanel: the anonymous id and the user id arrived together on one event.
    LinkedTogether,
    /// A `$identify` sent while the device was identified as `from`, naming the anonymous id
    /// given here (@posthog/core sends one on every change of id).
    IdentifyWhileIdentified(Box<str>),
    /// Written once, when made (reset(true) links, rare and with their own evidence).
    Text(Box<str>),
}

impl Transition {
    /// Why the device moved between these ids, in a sentence a developer can act on.
    pub fn explanation(&self) -> String {
        let from = self.from.as_deref().unwrap_or_default();
        let to = self.to.as_deref().unwrap_or_default();
        if let Some(text) = self.vendor_explanation(from, to) {
            return text;
        }
        match &self.why {
            Why::Identify => format!(
                "$identify: '{from}' (anonymous) became '{to}'. PostHog links the anonymous id to the person \
                 of '{to}', so the earlier anonymous events count for that user."
            ),
            Why::IdentifyDropped => format!(
                "$identify from '{from}' to '{to}' was sent with $process_person_profile=false: PostHog \
                 dropped it and linked nothing."
            ),
            Why::IdentifyInferred => format!(
                "The device moved from the anonymous id '{from}' to '{to}', but no $identify linking them has \
                 arrived (yet): until one does, PostHog keeps them as separate persons."
            ),
            Why::Alias => format!(
                "{to} called alias('{from}'): PostHog adds '{from}' to the person of '{to}' unless \
                 '{from}' already belongs to another identified person."
            ),
            Why::SamePerson => format!(
                "The device now uses '{to}', an id of the same person as '{from}' (linked earlier by an \
                 alias, identify or merge), so this is one user under another id."
            ),
            Why::Set(keys) => format!("Person properties set on '{to}': {}.", keys.join(", ")),
            Why::SwitchWithoutReset => format!(
                "This device went from user '{from}' straight to user '{to}' with no new anonymous id \
                 between: reset() was not called at logout, so both users share this device's \
                 $device_id and session, and '{to}' was never linked by a $identify."
            ),
            Why::ResetAfterUser => format!(
                "The device was identified as '{from}' and now sends the new anonymous id '{to}': \
                 reset() was called (it sends no event, so this is inferred)."
            ),
            Why::ResetWhileAnonymous => format!(
                "The anonymous id changed from '{from}' to '{to}' without an identify: reset() while \
                 anonymous, or cleared storage (inferred)."
            ),
            Why::IdentifyWhileIdentified(anon) => format!(
                "identify('{to}') was called while this device was identified as '{from}', without reset(). \
                 This SDK (@posthog/core, e.g. posthog-react-native) sends $identify on every change of id, \
                 naming the anonymous id '{anon}' it kept since the first identify: PostHog adds '{to}' to the \
                 person that holds '{anon}' and '{from}' when '{to}' has no person yet (two users, one person), \
                 and refuses the merge (cannot_merge_already_identified) when it has one."
            ),
            Why::Text(text) => text.to_string(),
            Why::LinkedTogether => String::new(),
        }
    }

    /// The `missing_reset_between_users` message for a switch whose own words differ from the
    /// family's (an SDK that sent `$identify` for the second user: the family's sentence says
    /// posthog-js sends none and that nothing is linked, both false there).
    pub(crate) fn missing_reset_message(&self, device: &str) -> Option<String> {
        match &self.why {
            Why::IdentifyWhileIdentified(_) => Some(format!(
                "Device '{device}' went from user '{}' to user '{}' without reset(). {}",
                self.from.as_deref().unwrap_or_default(),
                self.to.as_deref().unwrap_or_default(),
                self.explanation()
            )),
            _ => None,
        }
    }

    /// The wording of vendors that link the ids an event carries (Segment, Mixpanel), where
    /// PostHog's would mislead.
    fn vendor_explanation(&self, from: &str, to: &str) -> Option<String> {
        let linked_together = vendor(self.family).words.linked_together?;
        let (v, word) = (self.family.vendor(), self.family.person_word());
        Some(match &self.why {
            Why::Identify | Why::LinkedTogether => linked_together(from, to),
            Why::IdentifyInferred => format!(
                "The device moved from the anonymous id '{from}' to '{to}', but no event carrying both has arrived \
                 (yet): until one does, {v} keeps them in separate {word}s."
            ),
            // Segment-protocol alias messages stay on the device's id (`to` here, the previousId)
            // and name the new id (`from` here, the message's userId); see `posthog_shape.rs`.
            Why::Alias if self.family == Family::Segment => format!(
                "alias('{from}') sent from '{to}': the SDK stays on '{to}'. Segment Unify links nothing on an alias \
                 (\"Alias calls can't be used to merge profiles in Unify\", Spec: Alias)."
            ),
            Why::Alias if self.family == Family::RudderStack => format!(
                "alias('{from}') sent from '{to}': the SDK stays on '{to}'. RudderStack's Profiles ID stitcher joins \
                 ids seen together on identifies and tracks; an alias' previousId is stitched only when the project \
                 lists the aliases table as an edge source."
            ),
            Why::Alias => format!(
                "alias: previous id '{from}' and user id '{to}': {v} links both into one {word} (unless that \
                 would give it a second user id)."
            ),
            Why::SwitchWithoutReset if self.family == Family::RudderStack => format!(
                "This device went from user '{from}' to user '{to}' on the same anonymousId: \
                 @rudderstack/analytics-js v3 keeps the anonymousId on a plain reset() (only reset(true) makes a \
                 new one), and RudderStack's Profiles ID stitcher joins both users through it into one rudder_id."
            ),
            Why::SwitchWithoutReset => format!(
                "This device went from user '{from}' straight to user '{to}' with no new anonymous id between: \
                 reset() was not called at logout, so both users share this device's ids and {v} cannot link \
                 '{to}' to them (one user id per {word})."
            ),
            _ => return None,
        })
    }
}
