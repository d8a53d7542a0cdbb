//! Turning what a user asked for (CLI flags, API parameters) into a store [`Selection`].

use chrono::{DateTime, NaiveDate, Utc};
use event_store::{split_project, Micros, Selection};

/// What to export, as asked. The person is given as its distinct ids (callers resolve a person
/// id through the identity model).
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub project: Option<String>,
    /// `import:<name>`; implied by an imported project.
    pub dataset: Option<String>,
    pub session: Option<String>,
    pub device: Option<String>,
    pub person_distinct_ids: Vec<String>,
    pub from: Option<Micros>,
    pub to: Option<Micros>,
}

/// Why a [`Scope`] names no valid selection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    #[error("project {project} belongs to data set {implied}, not {asked}")]
    DatasetClash { project: String, implied: String, asked: String },
    #[error("choose one of session, device and person")]
    SeveralNarrowings,
    #[error("the time range is empty: `from` must be before `to`")]
    EmptyRange,
}

/// A time that [`parse_time`] cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a time: use RFC 3339 (2026-11-24T10:00:00Z), a date (2026-11-24) or unix milliseconds")]
pub struct TimeError(pub String);

impl Scope {
    pub fn selection(&self) -> Result<Selection, SelectionError> {
        let implied = self.project.as_deref().and_then(|p| split_project(p).0).map(str::to_owned);
        let dataset = match (&self.dataset, implied) {
            (Some(asked), Some(implied)) if *asked != implied => {
                return Err(SelectionError::DatasetClash {
                    project: self.project.clone().unwrap_or_default(),
                    implied,
                    asked: asked.clone(),
                })
            }
            (Some(asked), _) => Some(asked.clone()),
            (None, implied) => implied,
        };
        let narrowing = [self.session.is_some(), self.device.is_some(), !self.person_distinct_ids.is_empty()];
        if narrowing.iter().filter(|n| **n).count() > 1 {
            return Err(SelectionError::SeveralNarrowings);
        }
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if from >= to {
                return Err(SelectionError::EmptyRange);
            }
        }
        Ok(Selection {
            dataset,
            project: self.project.clone(),
            session_id: self.session.clone(),
            device_id: self.device.clone(),
            distinct_ids: self.person_distinct_ids.clone(),
            from: self.from,
            to: self.to,
        })
    }
}

/// A time as users write it: RFC 3339 (`2026-11-24T10:00:00Z`), a date (`2026-11-24`, midnight
/// UTC) or unix milliseconds.
pub fn parse_time(text: &str) -> Result<Micros, TimeError> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc).timestamp_micros());
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc().timestamp_micros());
    }
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms.saturating_mul(1000));
    }
    Err(TimeError(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_three_spellings() {
        assert_eq!(parse_time("1970-01-01T00:00:01Z").unwrap(), 1_000_000);
        assert_eq!(parse_time("1970-01-02").unwrap(), 86_400_000_000);
        assert_eq!(parse_time("1500").unwrap(), 1_500_000);
        assert!(parse_time("yesterday").unwrap_err().to_string().contains("not a time"));
    }

    #[test]
    fn imported_projects_imply_their_data_set() {
        let scope = Scope { project: Some("import:bug/phc_x".into()), ..Scope::default() };
        assert_eq!(scope.selection().unwrap().dataset.as_deref(), Some("import:bug"));
        let clash = Scope { dataset: Some("import:other".into()), ..scope };
        assert!(clash.selection().is_err());
        let two = Scope { session: Some("s".into()), device: Some("d".into()), ..Scope::default() };
        assert!(two.selection().unwrap_err().to_string().contains("one of"));
    }
}
