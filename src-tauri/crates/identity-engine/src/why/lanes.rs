//! Which device lane each step's event landed on, read from the project's lanes in one pass.
//!
//! A lane records the events that moved it (`Transition::event_uuid`) exactly; an event that
//! moved no lane is placed on the lane whose segment of one of the step's ids spans its arrival
//! order, preferring a segment that begins or ends with it.

use foldhash::{HashMap, HashMapExt, HashSet};

use super::WhyStep;
use crate::model::Model;

pub(super) fn place(model: &Model, project: &str, steps: &mut [WhyStep]) {
    if steps.is_empty() {
        return;
    }
    let wanted: HashSet<&str> = steps.iter().map(|s| s.event.event_uuid.as_str()).collect();
    // Per id, the steps naming it (at most two on a shortest path; refusals are capped), so each segment
    // looks only at its own id's steps: O(segments + steps) in all.
    let mut by_id: HashMap<&str, Vec<(i64, &str)>> = HashMap::with_capacity(steps.len() * 2);
    for s in steps.iter() {
        for id in [s.from.as_str(), s.to.as_str()] {
            by_id.entry(id).or_default().push((s.event.seq, s.event.event_uuid.as_str()));
        }
    }
    let lanes = model.devices(Some(project));
    // Rank 0: a transition of the event; 1: a segment that begins or ends with it; 2: spans it.
    let mut best: HashMap<String, (u8, usize)> = HashMap::with_capacity(steps.len());
    for (li, lane) in lanes.iter().enumerate() {
        for t in &lane.transitions {
            if let Some(uuid) = t.event_uuid.as_deref().filter(|u| wanted.contains(u)) {
                keep(&mut best, uuid, 0, li);
            }
        }
        for seg in &lane.segments {
            for &(seq, uuid) in by_id.get(seg.distinct_id.as_str()).into_iter().flatten() {
                if (seg.first_seq..=seg.last_seq).contains(&seq) {
                    let rank = if seq == seg.first_seq || seq == seg.last_seq { 1 } else { 2 };
                    keep(&mut best, uuid, rank, li);
                }
            }
        }
    }
    for s in steps.iter_mut() {
        s.lane_id = best.get(&s.event.event_uuid).map(|&(_, li)| lanes[li].id.clone());
    }
}

fn keep(best: &mut HashMap<String, (u8, usize)>, uuid: &str, rank: u8, lane: usize) {
    match best.get_mut(uuid) {
        Some(have) if have.0 <= rank => {}
        Some(have) => *have = (rank, lane),
        None => {
            best.insert(uuid.to_owned(), (rank, lane));
        }
    }
}
