//! Which vendor's identity rules a project gets, from the stored `events.source`.
//!
//! `posthog` -> PostHog person rules; `segment` -> Segment Unify's identity graph;
//! `rudderstack` -> RudderStack's ID stitcher (same wire protocol as Segment, its own rules);
//! `mixpanel` -> Mixpanel's ID merge (the mode is a project setting); `kissmetrics` ->
//! KISSmetrics identities. Anything else (an older store without a source) is PostHog, so the
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
    #[serde(rename = "rudderstack")]
    RudderStack,
    Mixpanel,
    #[serde(rename = "kissmetrics")]
    KissMetrics,
}

impl Family {
    pub fn of_source(source: &str) -> Family {
        match source {
            "segment" => Family::Segment,
            "rudderstack" => Family::RudderStack,
            "mixpanel" => Family::Mixpanel,
            "kissmetrics" => Family::KissMetrics,
            _ => Family::PostHog,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Family::PostHog => "posthog",
            Family::Segment => "segment",
            Family::RudderStack => "rudderstack",
            Family::Mixpanel => "mixpanel",
            Family::KissMetrics => "kissmetrics",
        }
    }

    /// The vendor's name, for sentences.
    pub fn vendor(self) -> &'static str {
        match self {
            Family::PostHog => "PostHog",
            Family::Segment => "Segment",
            Family::RudderStack => "RudderStack",
            Family::Mixpanel => "Mixpanel",
            Family::KissMetrics => "KISSmetrics",
        }
    }

    /// The vendor's own word for a person.
    pub fn person_word(self) -> &'static str {
        match self {
            Family::PostHog => "person",
            Family::Segment => "profile",
            Family::RudderStack => "profile",
            Family::Mixpanel => "cluster",
            Family::KissMetrics => "person",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_map_to_families() {
        let got: Vec<Family> =
            ["posthog", "segment", "rudderstack", "mixpanel", "kissmetrics", ""].map(Family::of_source).to_vec();
        assert_eq!(
            got,
            [
                Family::PostHog,
                Family::Segment,
                Family::RudderStack,
                Family::Mixpanel,
                Family::KissMetrics,
                Family::PostHog
            ]
        );
    }
}
