//! One display name per person, the same in every view: the id the person was identified as
//! (the target of the identify that identified it, or its first user id where the vendor has
//! user ids), else its first id that looks like a user's, else its first distinct id.
//!
//! Invariant: a function of the engine's state only, so every reader (list, page, lane, event)
//! that asks about the same person at the same point of the stream gets the same label.

use crate::family::Family;
use crate::graph::IdKind;
use crate::lint::rules::{is_placeholder, looks_kissmetrics_anonymous};
use crate::types::Person;
use crate::Engine;

/// Ids that SDKs generate for anonymous visitors rather than ids a human would recognise: UUIDs
/// (posthog-js, analytics.js, mobile SDKs), Mixpanel's `$device:` ids, placeholders.
pub fn looks_anonymous(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok() || id.starts_with("$device:") || is_placeholder(id)
}

impl Engine {
    /// The person's display label (see the module doc). Costs a binary search in the decisions
    /// (PostHog), or a scan of the person's ids up to its first user id (other vendors) or its
    /// first user-like id (fallback).
    pub fn display_label(&self, person: &Person) -> String {
        self.identified_as(person)
            .or_else(|| {
                let family = self.family(&person.project);
                person.distinct_ids.iter().find(|id| self.user_like(family, &person.project, id)).cloned()
            })
            .or_else(|| person.distinct_ids.first().cloned())
            .unwrap_or_default()
    }

    /// The id the person was identified as: PostHog, the target of the event that identified
    /// it; vendors with user ids, its first id of that kind.
    fn identified_as(&self, person: &Person) -> Option<String> {
        let project = person.project.as_str();
        if self.family(project) != Family::PostHog {
            return person.distinct_ids.iter().find(|id| self.id_kind(project, id) == Some(IdKind::UserId)).cloned();
        }
        let by = person.identified_by.as_ref()?;
        let decisions = self.decisions();
        let from = decisions.partition_point(|d| d.seq < by.seq);
        decisions[from..]
            .iter()
            .take_while(|d| d.seq == by.seq)
            .filter(|d| d.project == project)
            .find_map(|d| d.target.as_ref().filter(|t| self.person_for(project, t).is_some_and(|p| p.id == person.id)))
            .cloned()
    }

    /// The person's ids that name a user rather than a device or visitor, its label first. What a
    /// list shows as "user-a + user-b", so only ids that each stand for a user: where the vendor
    /// has a user id field (Segment and RudderStack `userId`, Mixpanel `$user_id` and identified
    /// ids) only ids of that kind, since an email, a group id or a device id on the same profile
    /// is not a second user; where every id is a distinct id (PostHog, KISSmetrics), the ids that
    /// do not look anonymous. O(ids).
    pub fn user_like_ids(&self, person: &Person) -> Vec<String> {
        let family = self.family(&person.project);
        let label = self.display_label(person);
        let user_like = |id: &str| match family {
            Family::Segment | Family::RudderStack | Family::Mixpanel => {
                self.id_kind(&person.project, id) == Some(IdKind::UserId)
            }
            Family::PostHog | Family::KissMetrics => match self.id_kind(&person.project, id) {
                Some(IdKind::UserId | IdKind::Email) => true,
                Some(IdKind::AnonymousId | IdKind::DeviceId) => false,
                _ => self.user_like(family, &person.project, id),
            },
        };
        let first = user_like(&label).then(|| label.clone());
        first
            .into_iter()
            .chain(person.distinct_ids.iter().filter(|id| **id != label && user_like(id)).cloned())
            .collect()
    }

    fn user_like(&self, family: Family, project: &str, id: &str) -> bool {
        let anonymous_kind = matches!(self.id_kind(project, id), Some(IdKind::AnonymousId | IdKind::DeviceId));
        let kissmetrics_anonymous = family == Family::KissMetrics && looks_kissmetrics_anonymous(id);
        !(looks_anonymous(id) || anonymous_kind || kissmetrics_anonymous)
    }
}
