//! The checks, run once per applied event: one function per rule, called in order from
//! `Lint::apply`. Each rule builds its finding key from its subject (see `Lint::report`), so
//! repeats update one finding.

use serde_json::Value;

use super::text as t;
use super::{finding, Finding, Lint, LintRule, Severity, Share, UserLanes};
use crate::devices::{Devices, LaneUpdate, TransitionKind};
use crate::engine::vendor;
use crate::family::Family;
use crate::js::{js_string, js_truthy};
use crate::posthog::is_illegal_distinct_id;
use crate::types::{Applied, EventInput, WarningKind};

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
    /// The event in PostHog's shape, whatever its family (see `posthog_shape.rs`).
    pub ev: &'a EventInput,
    /// The event as stored.
    pub raw: &'a EventInput,
    pub family: Family,
    pub applied: &'a Applied,
    pub update: &'a LaneUpdate,
    pub devices: &'a Devices,
    /// The engine after the event (persons as they are now).
    pub engine: &'a crate::Engine,
}

pub(crate) fn is_placeholder(id: &str) -> bool {
    let trimmed = id.trim();
    // Longer than every placeholder and not all zeros and dashes: the common case, decided
    // without allocating.
    if trimmed.len() > 16 && trimmed.bytes().any(|b| b != b'0' && b != b'-') {
        return false;
    }
    // An ASCII id (nearly all the short ones, "user-42") compares case-insensitively in place:
    // the same answer as lower-casing it, without a new string per event. Only other ids are
    // lower-cased, since a non-ASCII character can lower-case to ASCII (the Kelvin sign to `k`).
    if trimmed.is_ascii() {
        return PLACEHOLDERS.iter().any(|p| p.eq_ignore_ascii_case(trimmed))
            || (!trimmed.is_empty() && trimmed.bytes().all(|b| b == b'0' || b == b'-'));
    }
    let lower = trimmed.to_lowercase();
    PLACEHOLDERS.contains(&lower.as_str()) || (!lower.is_empty() && lower.chars().all(|c| c == '0' || c == '-'))
}

/// Default-looking identities KISSmetrics' "Squished Identities" article names ("anonymous",
/// "none", "missing", "null", ...), plus the generic placeholders above.
pub(crate) fn is_kissmetrics_placeholder(id: &str) -> bool {
    let lower = id.trim().to_lowercase();
    ["anonymous", "none", "missing", "undefined", ""].contains(&lower.as_str()) || is_placeholder(id)
}

/// The KISSmetrics JS library's generated anonymous ids are base64 ("Identities": only a-z,
/// A-Z, 0-9, +, / and =), about 28 characters; uuids are what other libraries generate.
pub(crate) fn looks_kissmetrics_anonymous(id: &str) -> bool {
    let base64 = id.len() >= 20 && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    base64 || uuid::Uuid::parse_str(id).is_ok()
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
    // Asked of every event's distinct id, nearly never an email: a byte search (`@` is never part
    // of a multi-byte character) settles most ids faster than `split_once`'s char searcher.
    if !id.as_bytes().contains(&b'@') {
        return false;
    }
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
    /// Runs every rule on one event, in a fixed order (findings keep creation order); returns
    /// how many findings it created.
    pub(crate) fn apply(&mut self, c: &Ctx) -> usize {
        let alias = alias_of(c.ev);
        let mut created = self.engine_warnings(c);
        created += self.generic_and_email_ids(c, alias.as_deref());
        created += self.many_devices(c);
        created += self.missing_reset(c);
        created += self.identified_before_identify(c);
        created += self.repeated_identify(c);
        created += self.distinct_users_merged(c, alias.as_deref());
        created += self.alias_after_identify(c, alias.as_deref());
        created += self.many_user_ids(c);
        created += self.squished_identities(c);
        created + self.identified_share(c)
    }

    /// Reports `f` under `key` for the event of `c`: first fired by it, and on its lane's device
    /// unless the rule names devices itself (or is project-wide). Returns 1 when created.
    pub(crate) fn report_event(&mut self, c: &Ctx, key: String, mut f: Finding) -> usize {
        f.seq = c.ev.seq;
        if f.device_ids.is_empty() && f.rule != LintRule::IdentifiedShare {
            f.device_ids.push(c.devices.lanes[c.update.lane].lane.device_id.clone());
        }
        usize::from(self.report(key, f))
    }

    /// The engine's own warnings, one finding per warning kind and ids.
    fn engine_warnings(&mut self, c: &Ctx) -> usize {
        let p = c.ev.project.as_str();
        let mut created = 0;
        for w in &c.applied.warnings {
            let (severity, fix) = t::warning_kind(w.kind);
            let mut f = finding(LintRule::from(w.kind), severity, p, w.message.clone(), fix.to_owned());
            f.event_uuids.push(w.event_uuid.clone());
            f.distinct_ids = w.distinct_ids.clone();
            created += self.report_event(c, format!("{}|{p}|{}", w.kind.as_str(), w.distinct_ids.join("|")), f);
        }
        created
    }

    /// `generic_distinct_id` (an illegal or placeholder-looking id) and `email_as_distinct_id`,
    /// for the ids the event uses as someone's id: its distinct id and an alias it adds.
    fn generic_and_email_ids(&mut self, c: &Ctx, alias: Option<&str>) -> usize {
        let (ev, p, family) = (c.ev, c.ev.project.as_str(), c.family);
        let mut created = 0;
        for id in std::iter::once(ev.distinct_id.as_str()).chain(alias) {
            // Segment's and Mixpanel's own blocked values are engine warnings already (Segment's
            // depend on the project's settings, so its warnings on this event say which).
            let vendor_blocked = (vendor(family).blocks_id)(id)
                || c.applied
                    .warnings
                    .iter()
                    .any(|w| w.kind == WarningKind::BlockedIdentifierValue && w.distinct_ids.iter().any(|d| d == id));
            let illegal = family == Family::PostHog && is_illegal_distinct_id(id);
            if !vendor_blocked && (illegal || is_placeholder(id)) {
                let key = format!("generic_distinct_id|{p}|{id}");
                let n = self.count(&key) + 1;
                let (severity, message) = if illegal {
                    (Severity::Error, t::illegal_id(id, n))
                } else {
                    (Severity::Warning, t::placeholder_id(id, n, family))
                };
                let mut f = finding(LintRule::GenericDistinctId, severity, p, message, t::FIX_GENERIC.to_owned());
                f.event_uuids.push(ev.uuid.clone());
                f.distinct_ids.push(id.to_owned());
                created += self.report_event(c, key, f);
            }
            // KISSmetrics recommends an email as the named identity ("Understanding identities":
            // "The most common named identity is an email address"), so it is no finding there.
            if looks_like_email(id) && family != Family::KissMetrics {
                let message = t::email_id(id, family);
                let mut f =
                    finding(LintRule::EmailAsDistinctId, Severity::Warning, p, message, t::FIX_EMAIL.to_owned());
                f.event_uuids.push(ev.uuid.clone());
                f.distinct_ids.push(id.to_owned());
                created += self.report_event(c, format!("email_as_distinct_id|{p}|{id}"), f);
            }
        }
        created
    }

    /// `generic_distinct_id` for one id identified on many unrelated lanes (reset(true)
    /// continuations count once). The lanes of each id and which of them count are kept
    /// incrementally (`UserLanes`): a new lane costs O(log lanes of the id), and a reset(true)
    /// link made or dropped by this event re-counts only the lanes it changed.
    fn many_devices(&mut self, c: &Ctx) -> usize {
        if !c.update.linked.is_empty() {
            for lane in std::iter::once(c.update.lane).chain(c.update.linked.iter().copied()) {
                for u in self.users_of_lane.get(&lane).cloned().unwrap_or_default() {
                    recount(&mut self.users[u], lane, c.devices);
                }
            }
        }
        let (ev, p) = (c.ev, c.ev.project.as_str());
        let segment = &c.devices.lanes[c.update.lane].lane.segments[c.update.segment];
        if !segment.identified {
            return 0;
        }
        let known = self.user_index.get(p).and_then(|ids| ids.get(&segment.distinct_id)).copied();
        if known.is_some_and(|u| self.users[u].lanes.contains_key(&c.update.lane)) {
            return 0;
        }
        let u = match known {
            Some(u) => u,
            None => {
                let u = self.users.len();
                self.users.push(UserLanes::default());
                self.user_index.entry(p.to_owned()).or_default().insert(segment.distinct_id.clone(), u);
                u
            }
        };
        self.users_of_lane.entry(c.update.lane).or_default().push(u);
        let user = &mut self.users[u];
        user.lanes.insert(c.update.lane, false);
        recount(user, c.update.lane, c.devices);
        // The lane this one was continued by (reset(true)) no longer counts on its own.
        if let Some(next) = c.devices.lanes[c.update.lane].continued_by {
            if user.lanes.contains_key(&next) {
                recount(user, next, c.devices);
            }
        }
        if user.lanes.len() < 3 || user.devices.len() < 3 {
            return 0;
        }
        let id = segment.distinct_id.clone();
        let key = format!("generic_distinct_id|{p}|many-devices:{id}");
        let user = &self.users[u];
        // A new finding lists every device; an existing one keeps its first `MAX_REFS` and
        // takes new ones in this order until full, which the first 2 * MAX_REFS distinct
        // devices decide (at most MAX_REFS of them are already listed); a full one takes none.
        let listed = self.by_key.get(&key).map(|&i| self.findings[i].device_ids.len());
        let device_ids: Vec<String> = if listed.is_some_and(|n| n >= super::MAX_REFS) {
            user.devices.iter().take(1).map(|(_, d, _)| d.clone()).collect()
        } else if listed.is_some() {
            let mut first: Vec<String> = Vec::new();
            for (_, d, _) in &user.devices {
                if first.len() >= 2 * super::MAX_REFS {
                    break;
                }
                if !first.contains(d) {
                    first.push(d.clone());
                }
            }
            first
        } else {
            user.devices.iter().map(|(_, d, _)| d.clone()).collect()
        };
        let message = t::many_devices(&id, user.devices.len());
        let mut f = finding(LintRule::GenericDistinctId, Severity::Warning, p, message, t::FIX_GENERIC.into());
        f.event_uuids.push(ev.uuid.clone());
        f.distinct_ids.push(id);
        f.device_ids = device_ids;
        self.report_event(c, key, f)
    }

    /// `missing_reset_between_users`: a lane switched users without reset(). A late segment may
    /// have turned a switch into a reset (or the other way round): then the lane's finding is
    /// rebuilt from its transitions, or withdrawn.
    fn missing_reset(&mut self, c: &Ctx) -> usize {
        let (ev, p, family) = (c.ev, c.ev.project.as_str(), c.family);
        let lane = &c.devices.lanes[c.update.lane].lane;
        if c.update.reclassified {
            return self.refresh_missing_reset(lane, ev.seq);
        }
        let mut created = 0;
        for tr in c.update.transitions.iter().filter(|tr| tr.kind == TransitionKind::SwitchWithoutReset) {
            let (from, to) = (tr.from.clone().unwrap_or_default(), tr.to.clone().unwrap_or_default());
            let message = tr
                .missing_reset_message(&lane.device_id)
                .unwrap_or_else(|| t::missing_reset(&lane.device_id, &from, &to, family));
            let fix = t::fix_missing_reset(family);
            let mut f = finding(LintRule::MissingResetBetweenUsers, Severity::Error, p, message, fix);
            f.event_uuids.extend(tr.event_uuid.clone());
            f.distinct_ids = vec![from, to];
            created += self.report_event(c, format!("missing_reset_between_users|{}", lane.id), f);
        }
        created
    }

    /// `identified_before_identify`: a signup/login event captured while still anonymous.
    fn identified_before_identify(&mut self, c: &Ctx) -> usize {
        let (ev, p) = (c.ev, c.ev.project.as_str());
        let lane = &c.devices.lanes[c.update.lane].lane;
        let segment = &lane.segments[c.update.segment];
        if segment.identified || !is_signup_event(&ev.event) {
            return 0;
        }
        let message = t::before_identify(&ev.event, &lane.device_id, &segment.distinct_id, c.family);
        let fix = t::FIX_BEFORE_IDENTIFY.into();
        let mut f = finding(LintRule::IdentifiedBeforeIdentify, Severity::Warning, p, message, fix);
        f.event_uuids.push(ev.uuid.clone());
        f.distinct_ids.push(segment.distinct_id.clone());
        self.report_event(c, format!("identified_before_identify|{}", lane.id), f)
    }

    /// `repeated_identify`: the same identify (id and `$set`) again in one session on one lane.
    fn repeated_identify(&mut self, c: &Ctx) -> usize {
        let (ev, p) = (c.ev, c.ev.project.as_str());
        if ev.event != "$identify" || c.applied.personless {
            return 0;
        }
        let session = ev.prop("$session_id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let set = canonical(ev.prop("$set").unwrap_or(&Value::Null));
        let entry = self
            .identifies
            .entry((c.update.lane, session.clone(), ev.distinct_id.clone(), set))
            .or_insert((0, ev.uuid.clone()));
        entry.0 += 1;
        let (n, first) = (entry.0, entry.1.clone());
        if n < 2 {
            return 0;
        }
        let lane = &c.devices.lanes[c.update.lane].lane;
        let message = t::repeated_identify(&ev.distinct_id, n, &session, c.family);
        let mut f = finding(LintRule::RepeatedIdentify, Severity::Info, p, message, t::FIX_REPEATED.into());
        f.event_uuids = vec![first, ev.uuid.clone()];
        f.distinct_ids.push(ev.distinct_id.clone());
        self.report_event(c, format!("repeated_identify|{}|{}", lane.id, ev.distinct_id), f)
    }

    /// `alias_after_identify`: an alias naming an id a merging `$identify` already targeted.
    /// Also remembers this event's identify target for later aliases.
    fn alias_after_identify(&mut self, c: &Ctx, alias: Option<&str>) -> usize {
        let (ev, p) = (c.ev, c.ev.project.as_str());
        let mut created = 0;
        if let (Some(alias), false) = (alias, c.applied.personless) {
            let known = |id: &str| self.identify_targets.contains(&(p.to_owned(), id.to_owned()));
            if let Some(id) = [ev.distinct_id.as_str(), alias].into_iter().find(|id| known(id)) {
                let message = t::alias_after_identify(alias, id, c.family);
                let key = format!("alias_after_identify|{p}|{}", ev.distinct_id);
                // An error when this alias (or an earlier one of the finding) joined two users' ids
                // (`distinct_users_merged`); a later harmless alias does not lower it.
                let was_error = self.by_key.get(&key).is_some_and(|&i| self.findings[i].severity == Severity::Error);
                let severity = if self.users_joined_by_event || was_error { Severity::Error } else { Severity::Info };
                let mut f = finding(LintRule::AliasAfterIdentify, severity, p, message, t::fix_alias(c.family));
                f.event_uuids.push(ev.uuid.clone());
                f.distinct_ids = vec![ev.distinct_id.clone(), alias.to_owned()];
                created += self.report_event(c, key, f);
            }
        }
        if ev.event == "$identify" && !c.applied.personless && ev.prop("$anon_distinct_id").is_some() {
            self.identify_targets.insert((p.to_owned(), ev.distinct_id.clone()));
        }
        created
    }

    /// `anonymous_id_with_many_user_ids` (Segment and Mixpanel, see `vendor.rs`).
    fn many_user_ids(&mut self, c: &Ctx) -> usize {
        match self.user_ids_of_anonymous_id(c) {
            Some((key, f)) => self.report_event(c, key, f),
            None => 0,
        }
    }

    /// `squished_identities` (KISSmetrics, after its support article "Squished Identities"):
    /// - identify squishing: a placeholder identity (`anonymous`, `none`, `missing`, `null`, ...)
    ///   aliased with two or more identities: every visitor whose code sends it joins one person;
    /// - alias squishing: one identity aliased with two or more named identities (ones that do
    ///   not look like the JS library's generated anonymous ids), i.e. several people.
    ///
    /// An identity aliased with many anonymous ids is one user on many browsers, not a finding.
    fn squished_identities(&mut self, c: &Ctx) -> usize {
        let raw = c.raw;
        if c.family != Family::KissMetrics || raw.event != crate::kissmetrics::ALIAS_EVENT {
            return 0;
        }
        let Some(other) = crate::kissmetrics::alias_other(&raw.properties) else { return 0 };
        if other == raw.distinct_id {
            return 0;
        }
        let p = raw.project.as_str();
        let mut created = 0;
        for (id, with) in [(raw.distinct_id.as_str(), other.as_str()), (other.as_str(), raw.distinct_id.as_str())] {
            let joined = self.aliased_with.entry((p.to_owned(), id.to_owned())).or_default();
            if !joined.iter().any(|j| j == with) && joined.len() < crate::lint::MAX_REFS {
                joined.push(with.to_owned());
            }
            let placeholder = is_kissmetrics_placeholder(id);
            let named = joined.iter().filter(|j| !looks_kissmetrics_anonymous(j)).count();
            if !((placeholder && joined.len() >= 2) || named >= 2) {
                continue;
            }
            let joined = joined.clone();
            let (message, fix) = if placeholder {
                (t::squished_placeholder(id, &joined), t::FIX_SQUISHED_PLACEHOLDER)
            } else {
                (t::squished_alias(id, &joined), t::FIX_SQUISHED_ALIAS)
            };
            let mut f = finding(LintRule::SquishedIdentities, Severity::Error, p, message, fix.to_owned());
            f.event_uuids.push(raw.uuid.clone());
            f.distinct_ids = std::iter::once(id.to_owned()).chain(joined).collect();
            created += self.report_event(c, format!("squished_identities|{p}|{id}"), f);
        }
        created
    }

    /// `identified_share` (PostHog's pricing), one finding per project. This runs for every
    /// event, so after the first it only counts: the finding's message is written when it is
    /// read (`Lint::current`).
    fn identified_share(&mut self, c: &Ctx) -> usize {
        if c.family != Family::PostHog {
            return 0;
        }
        let p = c.ev.project.as_str();
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
        if counted.reported {
            return 0;
        }
        counted.reported = true;
        let (key, message) = (counted.key.clone(), t::share(counted.identified, counted.anonymous));
        self.report_event(c, key, finding(LintRule::IdentifiedShare, Severity::Info, p, message, t::FIX_SHARE.into()))
    }
}

/// Puts lane `l` of `user` in or out of `user.devices`: out when it continues (reset(true))
/// another lane of the same user.
fn recount(user: &mut UserLanes, l: usize, devices: &Devices) {
    let Some(&counted) = user.lanes.get(&l) else { return };
    // A timing-only (`possible`) link is no continuation: such a lane counts on its own.
    let state = &devices.lanes[l];
    let counts = state.continues.filter(|_| !state.linked_by_time).is_none_or(|from| !user.lanes.contains_key(&from));
    if counts == counted {
        return;
    }
    user.lanes.insert(l, counts);
    let lane = &devices.lanes[l].lane;
    let entry = (lane.first_seq, lane.device_id.clone(), l);
    if counts {
        user.devices.insert(entry);
    } else {
        user.devices.remove(&entry);
    }
}

/// The alias a `$create_alias` / `$merge_dangerously` adds (a truthy `alias`, as PostHog reads it).
fn alias_of(ev: &EventInput) -> Option<String> {
    match ev.event.as_str() {
        "$create_alias" | "$merge_dangerously" => ev.prop("alias").filter(|a| js_truthy(a)).map(js_string),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::is_placeholder;

    #[test]
    fn placeholders_are_recognised_in_any_case_ascii_or_not() {
        // The Kelvin sign lower-cases to an ASCII `k`; a dotted capital I does not lower-case to `i`.
        for id in ["user", "USER", " Null ", "[Object Object]", "0", "000-000", "un\u{212A}nown"] {
            assert!(is_placeholder(id), "{id}");
        }
        for id in ["user-42", "users", "", " ", "01a20b8b-0000-7000-8000-000000000004", "nul", "N\u{130}L"] {
            assert!(!is_placeholder(id), "{id}");
        }
    }
}
