//! `PropertyOrigins`: which event set each of a person's properties.
//!
//! A person has a handful of properties. A `BTreeMap` allocates a node for eleven entries even
//! for one, which made origins the largest part of a rebuilt model; a vector sorted by key holds
//! exactly what is there and serialises the same way (a JSON object, keys in order).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::PropertyOrigin;

/// Grows a vector by half (starting at one) instead of doubling from four: the engine keeps
/// 100 000s of small vectors, and their spare capacity adds up. Still amortised O(1).
pub(crate) fn reserve_small<T>(v: &mut Vec<T>) {
    if v.len() == v.capacity() {
        v.reserve_exact((v.len() / 2).max(1));
    }
}

/// Property key -> its origin, sorted by key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
// Serialised as a map (see `impl Serialize`), so TypeScript sees one.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(as = "std::collections::BTreeMap<String, PropertyOrigin>"))]
pub struct PropertyOrigins(Vec<(String, PropertyOrigin)>);

impl PropertyOrigins {
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&PropertyOrigin> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    /// Sets the origin of `key`, returning the one it replaces.
    pub fn insert(&mut self, key: String, origin: PropertyOrigin) -> Option<PropertyOrigin> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, origin)),
            Err(i) => {
                reserve_small(&mut self.0);
                self.0.insert(i, (key, origin));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<PropertyOrigin> {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    /// In key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &PropertyOrigin)> {
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

impl std::ops::Index<&str> for PropertyOrigins {
    type Output = PropertyOrigin;

    fn index(&self, key: &str) -> &PropertyOrigin {
        self.get(key).unwrap_or_else(|| panic!("no origin for property {key:?}"))
    }
}

impl Serialize for PropertyOrigins {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for PropertyOrigins {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = std::collections::BTreeMap::<String, PropertyOrigin>::deserialize(d)?;
        Ok(PropertyOrigins(map.into_iter().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChangeOp, EventRef};

    fn origin(seq: i64) -> PropertyOrigin {
        let by = EventRef { seq, event_uuid: format!("e{seq}"), event: "$set".into(), timestamp: Default::default() };
        PropertyOrigin { by, op: ChangeOp::Set }
    }

    #[test]
    fn behaves_like_a_sorted_map() {
        let mut o = PropertyOrigins::default();
        assert_eq!(o.insert("b".into(), origin(1)), None);
        assert_eq!(o.insert("a".into(), origin(2)), None);
        assert_eq!(o.insert("b".into(), origin(3)), Some(origin(1)));
        assert_eq!(o.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(o["b"], origin(3));
        assert_eq!(o.remove("a"), Some(origin(2)));
        assert_eq!((o.len(), o.get("a")), (1, None));
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["b"]["by"]["seq"], 3);
        assert_eq!(serde_json::from_value::<PropertyOrigins>(json).unwrap(), o);
    }
}
