//! Which vendor's identity rules a project gets, from the stored `events.source`.
//!
//! `posthog` -> PostHog person rules; `segment` and `rudderstack` -> Segment's identity graph
//! (RudderStack speaks Segment's protocol and resolves identities the same way); `mixpanel` ->
//! Mixpanel's ID merge. Anything else (an older store without a source) is PostHog, so the
//! PostHog engine sees exactly the events it always did. A project keeps the family of its
//! first event (a token is one vendor's: mixing sources under one project name is not expected).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Family {
    #[default]
    PostHog,
    Segment,
    Mixpanel,
}

impl Family {
    pub fn of_source(source: &str) -> Family {
        match source {
            "segment" | "rudderstack" => Family::Segment,
            "mixpanel" => Family::Mixpanel,
            _ => Family::PostHog,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Family::PostHog => "posthog",
            Family::Segment => "segment",
            Family::Mixpanel => "mixpanel",
        }
    }

    /// The vendor's name, for sentences.
    pub fn vendor(self) -> &'static str {
        match self {
            Family::PostHog => "PostHog",
            Family::Segment => "Segment",
            Family::Mixpanel => "Mixpanel",
        }
    }

    /// The vendor's own word for a person.
    pub fn person_word(self) -> &'static str {
        match self {
            Family::PostHog => "person",
            Family::Segment => "profile",
            Family::Mixpanel => "cluster",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_map_to_families() {
        let got: Vec<Family> = ["posthog", "segment", "rudderstack", "mixpanel", ""].map(Family::of_source).to_vec();
        assert_eq!(got, [Family::PostHog, Family::Segment, Family::Segment, Family::Mixpanel, Family::PostHog]);
    }
}
