//! Deterministic person uuids, exactly as PostHog derives them.

use uuid::Uuid;

/// PostHog's namespace for person uuids (a fixed random uuidv4).
pub const PERSON_UUID_NAMESPACE: Uuid = Uuid::from_u128(0x932979b4_65c3_4424_8467_0b66ec27bc22);

/// `uuidv5("<project>:<distinct_id>", namespace)`. PostHog uses the numeric team id where the
/// inspector uses the project token, so the values differ from PostHog's but follow the same rule.
/// Personless events carry this uuid too, which is why a later person derived from the same id
/// "already owns" them.
pub fn person_uuid(project: &str, distinct_id: &str) -> Uuid {
    Uuid::new_v5(&PERSON_UUID_NAMESPACE, format!("{project}:{distinct_id}").as_bytes())
}
