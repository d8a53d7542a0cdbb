//! Deterministic person uuids, exactly as PostHog derives them.

use sha1::{Digest, Sha1};
use uuid::{Builder, Uuid};

/// PostHog's namespace for person uuids (a fixed random uuidv4).
pub const PERSON_UUID_NAMESPACE: Uuid = Uuid::from_u128(0x932979b4_65c3_4424_8467_0b66ec27bc22);

/// `uuidv5("<project>:<distinct_id>", namespace)`. PostHog uses the numeric team id where the
/// inspector uses the project token, so the values differ from PostHog's but follow the same rule.
/// Personless events carry this uuid too, which is why a later person derived from the same id
/// "already owns" them.
///
/// Hashed with the `sha1` crate (hardware SHA where the CPU has it) rather than `Uuid::new_v5`'s
/// portable SHA-1: a rebuild derives one uuid per distinct id, and this was 5% of it.
pub fn person_uuid(project: &str, distinct_id: &str) -> Uuid {
    let mut hash = Sha1::new();
    hash.update(PERSON_UUID_NAMESPACE.as_bytes());
    hash.update(project.as_bytes());
    hash.update(b":");
    hash.update(distinct_id.as_bytes());
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Builder::from_sha1_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_the_uuid_crates_v5() {
        for (project, id) in [("phc_x", "user-1"), ("", ""), ("tok", "ünïcode:with:colons")] {
            let expected = Uuid::new_v5(&PERSON_UUID_NAMESPACE, format!("{project}:{id}").as_bytes());
            assert_eq!(person_uuid(project, id), expected);
        }
    }
}
