//! `?source=` on every list endpoint: which capture sources to keep.
//!
//! The key may repeat (`source=a&source=b`), which `serde_urlencoded` (and so
//! [`crate::handlers::params::ApiQuery`]) does not support: [`SourceFilter`] is its own extractor, reading
//! the raw query; the other parameters of the same request go through `ApiQuery`, which ignores
//! `source`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use capture_decode::Source;

use crate::error::ApiError;

/// The sources a query asked for; empty = every source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SourceFilter(Vec<String>);

impl SourceFilter {
    /// Repeatable (`source=a&source=b`) and comma-separated (`source=a,b`). An unknown value is a
    /// 400 naming the known ones: a typo must not look like "no events".
    pub(crate) fn parse(raw_query: Option<&str>) -> Result<SourceFilter, ApiError> {
        let pairs = form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes());
        let values: Vec<String> = pairs.filter(|(k, _)| k == "source").map(|(_, v)| v.into_owned()).collect();
        SourceFilter::of(&values)
    }

    /// The sources named by `values`, each a source or a comma-separated list of them (what the
    /// query's `source` values hold, or an MCP tool's `source` argument).
    pub(crate) fn of(values: &[String]) -> Result<SourceFilter, ApiError> {
        let mut sources: Vec<String> = Vec::new();
        for value in values {
            for source in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if !Source::ALL.iter().any(|known| known.as_str() == source) {
                    let known: Vec<&str> = Source::ALL.iter().map(|s| s.as_str()).collect();
                    return Err(ApiError::invalid_parameter(
                        "source",
                        format!("unknown source {source:?}; expected one of {}", known.join(", ")),
                    ));
                }
                if !sources.iter().any(|s| s == source) {
                    sources.push(source.to_owned());
                }
            }
        }
        Ok(SourceFilter(sources))
    }

    pub(crate) fn allows(&self, source: &str) -> bool {
        self.0.is_empty() || self.0.iter().any(|s| s == source)
    }

    /// The comma-separated list the store's filters take; `None` for every source.
    pub(crate) fn store_list(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| self.0.join(","))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SourceFilter {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        SourceFilter::parse(parts.uri.query())
    }
}

/// `live_only=1` (or `true`): leave imported data sets (`import:<name>/<token>`) out of a list
/// read without a `project`, so "all projects" means live traffic. An explicit `project` is
/// always answered, imported or not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LiveOnly(pub(crate) bool);

impl LiveOnly {
    pub(crate) fn parse(raw_query: Option<&str>) -> Result<LiveOnly, ApiError> {
        let pairs = form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes());
        let mut live_only = false;
        for (_, value) in pairs.filter(|(k, _)| k == "live_only") {
            live_only = match value.as_ref() {
                "" => false,
                other => super::params::flag_value(other).ok_or_else(|| {
                    ApiError::invalid_parameter("live_only", format!("must be 1 or 0, not {other:?}"))
                })?,
            };
        }
        Ok(LiveOnly(live_only))
    }

    /// Whether a row of `project` is in the answer.
    pub(crate) fn allows(self, project: &str) -> bool {
        !self.0 || !project.starts_with(event_store::IMPORT_PREFIX)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for LiveOnly {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        LiveOnly::parse(parts.uri.query())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_and_comma_separated_values_combine_once_each() {
        let f = SourceFilter::parse(Some("source=segment,mixpanel&project=x&source=segment")).unwrap();
        assert_eq!(f.store_list().as_deref(), Some("segment,mixpanel"));
        assert!(f.allows("mixpanel") && !f.allows("posthog"));
        let all = SourceFilter::parse(Some("source=&project=x")).unwrap();
        assert!(all.allows("posthog") && all.store_list().is_none());
    }

    #[test]
    fn live_only_leaves_imported_projects_out() {
        let live = LiveOnly::parse(Some("project=&live_only=1")).unwrap();
        assert!(live.allows("phc_shop") && !live.allows("import:bug/phc_shop"));
        let all = LiveOnly::parse(Some("live_only=0")).unwrap();
        assert!(all.allows("import:bug/phc_shop"));
        assert!(LiveOnly::parse(Some("live_only=yes")).is_err());
    }

    #[test]
    fn an_unknown_source_is_a_400_naming_the_known_ones() {
        let err = SourceFilter::parse(Some("source=segmnet")).unwrap_err();
        assert!(
            matches!(&err, ApiError::InvalidParameter { parameter, message: m }
                if parameter == "source" && m.contains("segmnet") && m.contains("rudderstack")),
            "{err:?}"
        );
    }
}
