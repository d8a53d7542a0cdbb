//! The checks, run once per applied event. Each rule builds its finding key from its subject
//! (see `Lint::report`), so repeats update one finding.

use serde_json::Value;

use super::text as t;
use super::{finding, Finding, Lint, Share};
use crate::devices::{Devices, LaneUpdate};
use crate::family::Family;
use crate::illegal::is_illegal_distinct_id;
use crate::js::{js_string, js_truthy};
use crate::model::{Applied, EventInput};

/// Legal ids that still look like placeholders (compared lower-cased), on top of PostHog's
/// illegal ids and all-zero/dash ids such as the nil uuid.
const PLACEHOLDERS: [&str; 12] =
    ["user", "test", "1", "-1", "nan", "nil", "null", "unknown", "default", "user_id", "userid", "[object object]"];

/// Signup/login-looking event names, after lower-casing and turning `_`/`-` into spaces.
const SIGNUP_EVENTS: [&str; 16] = [
    "account created",
    "signed up",
    "sign up",
    "signup",
    "user signed up",
    "signup completed",
    "registered",
    "user registered",
    "registration completed",
    "logged in",
    "log in",
    "login",
    "user logged in",
    "signed in",
    "sign in",
    "user signed in",
];

pub(crate) struct Ctx<'a> {
    /// The lane view of the event (PostHog's shape for every family, see `view.rs`).
    pub ev: &'a EventInput,
    /// The event as stored.
    pub raw: &'a EventInput,
    pub family: crate::family::Family,
    pub applied: &'a Applied,
    pub update: &'a LaneUpdate,
    pub devices: &'a Devices,
}

pub(crate) fn is_placeholder(id: &str) -> bool {
    let trimmed = id.trim();
    // Longer than every placeholder and not all zeros and dashes: the common case, decided
    // without allocating.
    if trimmed.len() > 16 && trimmed.bytes().any(|b| b != b'0' && b != b'-') {
        return false;
    }
    let lower = trimmed.to_lowercase();
    PLACEHOLDERS.contains(&lower.as_str()) || (!lower.is_empty() && lower.chars().all(|c| c == '0' || c == '-'))
}

pub(crate) fn is_signup_event(name: &str) -> bool {
    // SDK events (`$pageview`, `$identify`, ...) and long names never match: no allocation for
    // the bulk of traffic.
    if name.starts_with('$') || name.len() > 64 {
        return false;
    }
    let norm: String = name.to_lowercase().replace(['_', '-'], " ");
    let norm = norm.split_whitespace().collect::<Vec<_>>().join(" ");
    SIGNUP_EVENTS.contains(&norm.as_str())
}

pub(crate) fn looks_like_email(id: &str) -> bool {
    match id.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && !id.chars().any(char::is_whitespace)
                && domain.split('.').count() >= 2
                && domain.split('.').all(|p| !p.is_empty())
        }
        None => false,
    }
}

/// JSON with object keys sorted, so equal `$set`s compare equal whatever the key order.
fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys.iter().map(|k| format!("{:?}:{}", k, canonical(&m[*k]))).collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

impl Lint {
    /// Runs every rule on one event; returns how many findings it created.
    pub(crate) fn apply(&mut self, c: &Ctx) -> usize {
        let mut created = 0;
        let mut report = |lint: &mut Lint, key: String, mut f: Finding| {
            f.seq = c.ev.seq;
            if f.device_ids.is_empty() && f.rule != "identified_share" {
                f.device_ids.push(c.devices.lanes[c.update.lane].lane.device_id.clone());
            }
            created += usize::from(lint.report(key, f));
        };
        let (ev, p) = (c.ev, c.ev.project.as_str());
        let lane = &c.devices.lanes[c.update.lane].lane;
        let segment = &lane.segments[c.update.segment];

        for w in &c.applied.warnings {
            let (severity, fix) = t::warning_kind(w.kind);
            let mut f = finding(w.kind.as_str(), severity, p, w.message.clone(), fix.to_owned());
            f.event_uuids.push(w.event_uuid.clone());
            f.distinct_ids = w.distinct_ids.clone();
            report(self, format!("{}|{p}|{}", w.kind.as_str(), w.distinct_ids.join("|")), f);
        }

        // Ids the event uses as someone's id: its distinct id and an alias it adds.
        let alias = match ev.event.as_str() {
            "$create_alias" | "$merge_dangerously" => {
                ev.properties.get("alias").filter(|a| js_truthy(a)).map(js_string)
            }
            _ => None,
        };
        let family = c.family;
        for id in std::iter::once(ev.distinct_id.clone()).chain(alias.clone()) {
            // Segment's and Mixpanel's own blocked values are engine warnings already.
            let vendor_blocked = match family {
                Family::PostHog => false,
                Family::Segment => crate::segment::is_segment_blocked(&id),
                Family::Mixpanel => crate::mixpanel::is_mixpanel_disallowed(&id),
            };
            let illegal = family == Family::PostHog && is_illegal_distinct_id(&id);
            if !vendor_blocked && (illegal || is_placeholder(&id)) {
                let key = format!("generic_distinct_id|{p}|{id}");
                let n = self.count(&key) + 1;
                let (severity, message) = if illegal {
                    ("error", t::illegal_id(&id, n))
                } else {
                    ("warning", t::placeholder_id(&id, n, family))
                };
                let mut f = finding("generic_distinct_id", severity, p, message, t::FIX_GENERIC.to_owned());
                f.event_uuids.push(ev.uuid.clone());
                f.distinct_ids.push(id.clone());
                report(self, key, f);
            }
            if looks_like_email(&id) {
                let mut f =
                    finding("email_as_distinct_id", "warning", p, t::email_id(&id, family), t::FIX_EMAIL.to_owned());
                f.event_uuids.push(ev.uuid.clone());
                f.distinct_ids.push(id.clone());
                report(self, format!("email_as_distinct_id|{p}|{id}"), f);
            }
        }

        // One id identified on many unrelated lanes (reset(true) continuations count once).
        let known_lane = segment.identified
            && self
                .lanes_of_user
                .get(p)
                .and_then(|ids| ids.get(&segment.distinct_id))
                .is_some_and(|l| l.contains(&c.update.lane));
        if segment.identified && !known_lane {
            let lanes =
                self.lanes_of_user.entry(p.to_owned()).or_default().entry(segment.distinct_id.clone()).or_default();
            if lanes.insert(c.update.lane) && lanes.len() >= 3 {
                let ids: Vec<&str> = lanes.iter().map(|&i| c.devices.lanes[i].lane.id.as_str()).collect();
                let mut devices: Vec<(i64, String)> = lanes
                    .iter()
                    .map(|&i| &c.devices.lanes[i].lane)
                    .filter(|l| l.linked_from.as_ref().is_none_or(|from| !ids.contains(&from.lane_id.as_str())))
                    .map(|l| (l.first_seq, l.device_id.clone()))
                    .collect();
                if devices.len() >= 3 {
                    devices.sort();
                    let id = segment.distinct_id.clone();
                    let mut f = finding(
                        "generic_distinct_id",
                        "warning",
                        p,
                        t::many_devices(&id, devices.len()),
                        t::FIX_GENERIC.into(),
                    );
                    f.event_uuids.push(ev.uuid.clone());
                    f.distinct_ids.push(id.clone());
                    f.device_ids = devices.into_iter().map(|(_, d)| d).collect();
                    report(self, format!("generic_distinct_id|{p}|many-devices:{id}"), f);
                }
            }
        }

        // A late segment may have turned a switch into a reset (or the other way round): the
        // lane's finding is rebuilt from its transitions, or withdrawn.
        let refreshed = if c.update.reclassified { self.refresh_missing_reset(lane, ev.seq) } else { 0 };
        for tr in c.update.transitions.iter().filter(|tr| !c.update.reclassified && tr.kind == "switch_without_reset") {
            let (from, to) = (tr.from.clone().unwrap_or_default(), tr.to.clone().unwrap_or_default());
            let message = t::missing_reset(&lane.device_id, &from, &to, family);
            let mut f = finding("missing_reset_between_users", "error", p, message, t::fix_missing_reset(family));
            f.event_uuids.extend(tr.event_uuid.clone());
            f.distinct_ids = vec![from, to];
            report(self, format!("missing_reset_between_users|{}", lane.id), f);
        }

        if !segment.identified && is_signup_event(&ev.event) {
            let message = t::before_identify(&ev.event, &lane.device_id, &segment.distinct_id, family);
            let mut f = finding("identified_before_identify", "warning", p, message, t::FIX_BEFORE_IDENTIFY.into());
            f.event_uuids.push(ev.uuid.clone());
            f.distinct_ids.push(segment.distinct_id.clone());
            report(self, format!("identified_before_identify|{}", lane.id), f);
        }

        if ev.event == "$identify" && !c.applied.personless {
            let session = ev.properties.get("$session_id").and_then(Value::as_str).unwrap_or_default().to_owned();
            let set = canonical(ev.properties.get("$set").unwrap_or(&Value::Null));
            let entry = self
                .identifies
                .entry((c.update.lane, session.clone(), ev.distinct_id.clone(), set))
                .or_insert((0, ev.uuid.clone()));
            entry.0 += 1;
            let (n, first) = (entry.0, entry.1.clone());
            if n >= 2 {
                let message = t::repeated_identify(&ev.distinct_id, n, &session, family);
                let mut f = finding("repeated_identify", "info", p, message, t::FIX_REPEATED.into());
                f.event_uuids = vec![first, ev.uuid.clone()];
                f.distinct_ids.push(ev.distinct_id.clone());
                report(self, format!("repeated_identify|{}|{}", lane.id, ev.distinct_id), f);
            }
        }

        if let (Some(alias), false) = (&alias, c.applied.personless) {
            let known = |id: &str| self.identify_targets.contains(&(p.to_owned(), id.to_owned()));
            if let Some(id) = [ev.distinct_id.as_str(), alias.as_str()].into_iter().find(|id| known(id)) {
                let message = t::alias_after_identify(alias, id, family);
                let mut f = finding("alias_after_identify", "info", p, message, t::FIX_ALIAS.into());
                f.event_uuids.push(ev.uuid.clone());
                f.distinct_ids = vec![ev.distinct_id.clone(), alias.clone()];
                report(self, format!("alias_after_identify|{p}|{}", ev.distinct_id), f);
            }
        }
        if ev.event == "$identify" && !c.applied.personless && ev.properties.contains_key("$anon_distinct_id") {
            self.identify_targets.insert((p.to_owned(), ev.distinct_id.clone()));
        }

        if let Some((key, f)) = self.many_user_ids(c) {
            report(self, key, f);
        }

        // Billing share (PostHog's pricing), one finding per project.
        if family != Family::PostHog {
            return created + refreshed;
        }
        // This runs for every event, so after the first it only counts: the finding's message is written when it is read (`Lint::current`).
        let counted = match self.share.get_mut(p) {
            Some(share) => share,
            None => self
                .share
                .entry(p.to_owned())
                .or_insert_with(|| Share { key: format!("identified_share|{p}"), ..Share::default() }),
        };
        if c.applied.personless {
            counted.anonymous += 1;
        } else {
            counted.identified += 1;
        }
        if !counted.reported {
            counted.reported = true;
            let (key, message) = (counted.key.clone(), t::share(counted.identified, counted.anonymous));
            report(self, key, finding("identified_share", "info", p, message, t::FIX_SHARE.into()));
        }
        created + refreshed
    }
}
