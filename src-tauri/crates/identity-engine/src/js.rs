//! The two JavaScript coercions PostHog applies to merge ids: truthiness (`if (alias)`) and
//! `String(value)` (a non-string `$anon_distinct_id` or `alias` becomes a distinct id string).

use serde_json::Value;

/// JavaScript truthiness of a JSON value. Empty arrays and objects are truthy, `0` and `""` not.
pub(crate) fn js_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// JavaScript `String(value)`: `null` -> "null", objects -> "[object Object]", arrays join their
/// elements with "," (null elements become ""). Floats follow JS for integral values below 1e21;
/// other floats use Rust's shortest representation (JS would write exponents for very small ones).
pub(crate) fn js_string(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => s.clone(),
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                return n.to_string();
            }
            let f = n.as_f64().unwrap_or(f64::NAN);
            if f == 0.0 {
                "0".to_owned()
            } else if f.fract() == 0.0 && f.abs() < 1e21 {
                format!("{f:.0}")
            } else {
                f.to_string()
            }
        }
        Value::Array(items) => {
            items.iter().map(|i| if i.is_null() { String::new() } else { js_string(i) }).collect::<Vec<_>>().join(",")
        }
        Value::Object(_) => "[object Object]".to_owned(),
    }
}

/// Equality as PostHog's `!==` sees it for `$set`, except that arrays and objects compare by
/// value (JS compares references, so it always rewrites them; the stored result is the same).
/// Numbers compare numerically, so `1` and `1.0` are equal as in JS.
pub(crate) fn js_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn js_coercions_of_merge_ids() {
        assert_eq!(js_string(&json!(null)), "null");
        assert_eq!(js_string(&json!(12)), "12");
        assert_eq!(js_string(&json!(12.0)), "12");
        assert_eq!(js_string(&json!(1.5)), "1.5");
        assert_eq!(js_string(&json!({"a": 1})), "[object Object]");
        assert_eq!(js_string(&json!(["a", null, 2])), "a,,2");
        assert!(
            !js_truthy(&json!(0)) && !js_truthy(&json!("")) && !js_truthy(&json!(null)) && !js_truthy(&json!(false))
        );
        assert!(js_truthy(&json!([])) && js_truthy(&json!({})) && js_truthy(&json!("0")));
    }
}
