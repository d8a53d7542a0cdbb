//! Query and path parameters of `/api`, parsed by extractors into typed structs, so handlers
//! never parse text and a bad parameter always answers the same way: a 400 [`ApiError`] with
//! code `invalid_parameter` naming the parameter.
//!
//! - [`ApiQuery<T>`]: the query string into `T` (`serde_urlencoded`). Fields use the deserializers
//!   below with `#[serde(default, deserialize_with = ...)]`: every endpoint treats `x=` like no `x`.
//! - [`ApiPath<T>`]: a path parameter (`Path<i64>`, `Path<Uuid>`, `Path<String>`).
//! - `?source=` may repeat, which `serde_urlencoded` does not support: it has its own extractor,
//!   [`crate::handlers::sources::SourceFilter`].

use std::str::FromStr;

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

use crate::error::ApiError;

/// The query string as `T`; a field that does not parse is a 400 naming it.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer).map(ApiQuery).map_err(|e| {
            let parameter = e.path().to_string();
            // The deserializers below say what the value should be; the name comes from the path.
            let message = match parameter.as_str() {
                "." | "" => e.inner().to_string(),
                name => format!("`{name}` {}", e.inner()),
            };
            ApiError::InvalidParameter { parameter, message }
        })
    }
}

/// A path parameter as `T`; one that does not parse is a 400 naming it.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> ApiError {
        use axum::extract::path::ErrorKind;
        let PathRejection::FailedToDeserializePathParams(failed) = rejection else {
            // A route and its handler disagree about the path's parameters: a bug here.
            return ApiError::Internal(rejection.body_text());
        };
        match failed.into_kind() {
            ErrorKind::ParseErrorAtKey { key, value, expected_type } => {
                let message = format!("`{key}` must be {}, not {value:?}", described(expected_type));
                ApiError::InvalidParameter { parameter: key, message }
            }
            ErrorKind::DeserializeError { key, value, message } => {
                let message = format!("{value:?} is not a valid `{key}`: {message}");
                ApiError::InvalidParameter { parameter: key, message }
            }
            other => ApiError::InvalidParameter { parameter: "path".into(), message: other.to_string() },
        }
    }
}

/// A Rust type name as a reader would say it.
fn described(rust_type: &str) -> &'static str {
    match rust_type {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" | "isize" => "a whole number",
        _ => "of another kind",
    }
}

/// `x=` is the same as no `x`.
pub(crate) fn empty_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|v| !v.is_empty()))
}

/// A whole number (a limit, a cursor, an id); `x=` is the same as no `x`.
pub(crate) fn whole_number<'de, D: Deserializer<'de>, T: FromStr>(d: D) -> Result<Option<T>, D::Error> {
    let Some(text) = empty_as_none(d)? else { return Ok(None) };
    text.parse().map(Some).map_err(|_| D::Error::custom(format!("must be a whole number, not {text:?}")))
}

/// A yes/no parameter's value: `1`/`true` or `0`/`false`; anything else is `None` (the caller
/// says what `x=` means and words the error).
pub(crate) fn flag_value(text: &str) -> Option<bool> {
    match text {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
}

/// A yes/no parameter that is yes unless it says otherwise ([`flag_value`]); `x=` is the same
/// as no `x`. Use with `#[serde(default = "yes")]`.
pub(crate) fn flag_default_yes<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match empty_as_none(d)? {
        None => Ok(true),
        Some(text) => flag_value(&text).ok_or_else(|| D::Error::custom(format!("must be 1 or 0, not {text:?}"))),
    }
}

/// The default of a [`flag_default_yes`] parameter.
pub(crate) fn yes() -> bool {
    true
}

/// A person id; `x=` is the same as no `x`.
pub(crate) fn person_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<uuid::Uuid>, D::Error> {
    let Some(text) = empty_as_none(d)? else { return Ok(None) };
    uuid::Uuid::parse_str(&text)
        .map(Some)
        .map_err(|_| D::Error::custom(format!("must be a person id (a UUID), not {text:?}")))
}

/// A body parsed as JSON into `T`; one that does not parse is a 400 `invalid_body` that says
/// what the endpoint expects (`T::EXPECTED`).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

/// A request body type, with what it should look like in words.
pub trait JsonBody: DeserializeOwned {
    const EXPECTED: &'static str;
}

impl<T: JsonBody, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::InvalidBody(format!("cannot read the body: {}", e.body_text())))?;
        serde_json::from_slice(&body)
            .map(ApiJson)
            .map_err(|e| ApiError::InvalidBody(format!("expected {}: {e}", T::EXPECTED)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Q {
        #[serde(default, deserialize_with = "whole_number")]
        limit: Option<u32>,
        #[serde(default, deserialize_with = "empty_as_none")]
        q: Option<String>,
    }

    async fn parse(uri: &str) -> Result<Q, ApiError> {
        let (mut parts, ()) = axum::http::Request::get(uri).body(()).unwrap().into_parts();
        ApiQuery::<Q>::from_request_parts(&mut parts, &()).await.map(|ApiQuery(q)| q)
    }

    #[tokio::test]
    async fn empty_values_are_absent_and_bad_numbers_name_their_parameter() {
        let q = parse("/x?limit=&q=&source=a&source=b").await.unwrap();
        assert_eq!((q.limit, q.q), (None, None));
        let q = parse("/x?limit=7&q=ada").await.unwrap();
        assert_eq!((q.limit, q.q.as_deref()), (Some(7), Some("ada")));
        let err = parse("/x?limit=lots").await.unwrap_err();
        assert!(
            matches!(&err, ApiError::InvalidParameter { parameter, message }
                if parameter == "limit" && message == "`limit` must be a whole number, not \"lots\""),
            "{err:?}"
        );
    }
}
