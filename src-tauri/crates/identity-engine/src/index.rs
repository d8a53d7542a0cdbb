//! distinct id -> person, per project, with cheap merges.
//!
//! A merge must move every distinct id of the source person to the target. Re-pointing each id
//! would cost O(ids of the source) per merge, O(n^2) for a chain of merges. Instead ids point at
//! nodes of a union-find forest and each root names its person: a merge links two roots (union by
//! rank, so the surviving *person* is independent of which *node* survives), and lookups follow
//! parents (path compression when we hold `&mut`). Amortised near O(1) per operation.
//!
//! Invariants: every distinct id appears at most once (so at most one person per project);
//! `person[root]` is `Some` exactly for roots of live persons.

use foldhash::HashMap;

use uuid::Uuid;

#[derive(Debug, Clone, Default)]
pub(crate) struct IdIndex {
    node_of: HashMap<String, u32>,
    parent: Vec<u32>,
    rank: Vec<u8>,
    person: Vec<Option<Uuid>>,
    /// person -> its current root node.
    root_of: HashMap<Uuid, u32>,
}

impl IdIndex {
    /// Registers a new person owning `ids` (none of which may be owned already).
    pub fn insert_person(&mut self, person: Uuid, ids: &[String]) {
        let node = self.parent.len() as u32;
        self.parent.push(node);
        self.rank.push(0);
        self.person.push(Some(person));
        self.root_of.insert(person, node);
        for id in ids {
            self.add_id(person, id);
        }
    }

    /// Gives `id` (unowned) to `person`.
    pub fn add_id(&mut self, person: Uuid, id: &str) {
        let root = self.root_of[&person];
        let previous = self.node_of.insert(id.to_owned(), root);
        debug_assert!(previous.is_none(), "distinct id {id} already owned");
    }

    /// The person owning `id`, without compressing paths (for `&self` queries).
    pub fn person_of(&self, id: &str) -> Option<Uuid> {
        let mut n = *self.node_of.get(id)?;
        while self.parent[n as usize] != n {
            n = self.parent[n as usize];
        }
        self.person[n as usize]
    }

    /// Same as `person_of`, compressing the path it walked.
    pub fn person_of_mut(&mut self, id: &str) -> Option<Uuid> {
        let start = *self.node_of.get(id)?;
        let mut root = start;
        while self.parent[root as usize] != root {
            root = self.parent[root as usize];
        }
        let mut n = start;
        while self.parent[n as usize] != root && n != root {
            let next = self.parent[n as usize];
            self.parent[n as usize] = root;
            n = next;
        }
        if let Some(node) = self.node_of.get_mut(id) {
            *node = root;
        }
        self.person[root as usize]
    }

    /// Every id of `source` now belongs to `target`; `source` no longer exists.
    pub fn merge(&mut self, source: Uuid, target: Uuid) {
        let s = self.root_of.remove(&source).expect("source person indexed");
        let t = self.root_of[&target];
        let (hi, lo) = if self.rank[s as usize] > self.rank[t as usize] { (s, t) } else { (t, s) };
        if self.rank[hi as usize] == self.rank[lo as usize] {
            self.rank[hi as usize] += 1;
        }
        self.parent[lo as usize] = hi;
        self.person[lo as usize] = None;
        self.person[hi as usize] = Some(target);
        self.root_of.insert(target, hi);
    }
}
