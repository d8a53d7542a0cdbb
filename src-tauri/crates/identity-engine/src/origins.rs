//! `SortedVecMap`: a small map from property key to a value, the store behind
//! `PropertyOrigins` (which event set each of a person's properties).
//!
//! A person has a handful of properties. A `BTreeMap` allocates a node for eleven entries even
//! for one, which made origins the largest part of a rebuilt model; a vector sorted by key holds
//! exactly what is there and serialises the same way (a JSON object, keys in order).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Grows a vector by half (starting at one) instead of doubling from four: the engine keeps
/// 100 000s of small vectors, and their spare capacity adds up. Still amortised O(1).
pub(crate) fn reserve_small<T>(v: &mut Vec<T>) {
    if v.len() == v.capacity() {
        v.reserve_exact((v.len() / 2).max(1));
    }
}

/// Property key -> value, sorted by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortedVecMap<V>(Vec<(String, V)>);

impl<V> Default for SortedVecMap<V> {
    fn default() -> Self {
        SortedVecMap(Vec::new())
    }
}

impl<V> SortedVecMap<V> {
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    /// Sets the origin of `key`, returning the one it replaces.
    pub fn insert(&mut self, key: String, origin: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, origin)),
            Err(i) => {
                reserve_small(&mut self.0);
                self.0.insert(i, (key, origin));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<V> {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    /// In key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// In key order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V> std::ops::Index<&str> for SortedVecMap<V> {
    type Output = V;

    fn index(&self, key: &str) -> &V {
        self.get(key).unwrap_or_else(|| panic!("no origin for property {key:?}"))
    }
}

impl<V: Serialize> Serialize for SortedVecMap<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for SortedVecMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = std::collections::BTreeMap::<String, V>::deserialize(d)?;
        Ok(SortedVecMap(map.into_iter().collect()))
    }
}
