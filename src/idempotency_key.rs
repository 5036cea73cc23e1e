//! Minimal `Idempotency-Key` parsing used until the idempotency module provides the full parser.

/// A structured-field string (`"abc"`) or a bare token; 1–255 visible ASCII characters.
pub fn parse(raw: &str) -> Result<String, &'static str> {
    let raw = raw.trim();
    let inner = if let Some(q) = raw.strip_prefix('"') {
        q.strip_suffix('"').ok_or("unterminated quoted string")?
    } else {
        raw
    };
    if inner.is_empty() || inner.len() > 255 {
        return Err("must be 1–255 characters");
    }
    if !inner.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err("must be visible ASCII");
    }
    Ok(inner.to_owned())
}
