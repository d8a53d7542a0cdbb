//! Two projects of (usually) different vendors fed by the same app, joined by user id: for
//! every user id, the ids each vendor's own rules put with it, so a developer sees where one
//! vendor links more or less history to a user than the other. Anonymous ids differ between
//! SDKs, so user ids are the only join key.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Cluster, Lens};
use crate::family::Family;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Comparison {
    pub project: String,
    pub source: String,
    pub family: Family,
    pub users: Vec<UserMatch>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserMatch {
    pub user_id: String,
    /// The ids with this user in the first project (its own vendor's rules); None: unknown there.
    pub here: Option<Vec<String>>,
    /// The same in the compared project.
    pub there: Option<Vec<String>>,
    pub sentence: String,
}

fn by_user(lens: &Lens) -> BTreeMap<String, &Cluster> {
    let native = lens.vendors.iter().find(|v| v.vendor == lens.family);
    native.map(|v| v.clusters.iter().filter_map(|c| Some((c.user_id.clone()?, c))).collect()).unwrap_or_default()
}

/// `here` and `there` are the lenses of the two projects.
pub fn compare(here: &Lens, there: &Lens) -> Comparison {
    let (a, b) = (by_user(here), by_user(there));
    let mut users: Vec<String> = a.keys().chain(b.keys()).cloned().collect();
    users.sort();
    users.dedup();
    let word = |l: &Lens| format!("{} {} ({})", l.family.vendor(), l.family.person_word(), l.project);
    let users = users
        .into_iter()
        .map(|u| {
            let (x, y) = (a.get(&u).map(|c| c.ids.clone()), b.get(&u).map(|c| c.ids.clone()));
            let sentence = match (&x, &y) {
                (Some(x), Some(y)) => format!(
                    "'{u}': the {} holds {} id{}, the {} holds {}.",
                    word(here),
                    x.len(),
                    if x.len() == 1 { "" } else { "s" },
                    word(there),
                    y.len()
                ),
                (Some(_), None) => {
                    format!("'{u}' is identified in {} only: {} never saw it.", here.project, there.project)
                }
                _ => format!("'{u}' is identified in {} only: {} never saw it.", there.project, here.project),
            };
            UserMatch { user_id: u, here: x, there: y, sentence }
        })
        .collect();
    Comparison { project: there.project.clone(), source: there.source.clone(), family: there.family, users }
}
