//! Request-controlled values on their way into a log line or a metric label: bounded in length,
//! control characters replaced, card numbers masked. A caller must not be able to grow a log line or
//! the metrics registry with what it sends (issue 10 item 1: 8 KB made-up methods became labels).

use actix_web::http::Method;

/// Most characters of one request-controlled value kept in a log field.
pub const MAX_LOGGED_CHARS: usize = 128;

/// `value`, at most [`MAX_LOGGED_CHARS`] characters (a cut value ends in `…`), control characters as
/// `?`, card numbers masked.
pub fn capped(value: &str) -> String {
    let mut out: String = value.chars().take(MAX_LOGGED_CHARS).map(|c| if c.is_control() { '?' } else { c }).collect();
    if value.chars().nth(MAX_LOGGED_CHARS).is_some() {
        out.push('…');
    }
    crate::sensitive::mask_card_numbers(&out)
}

/// The method as logged and labelled: one of the registered standard methods, or `OTHER` — an
/// arbitrary token never becomes a label or a log field.
pub fn method_label(method: &Method) -> &'static str {
    const KNOWN: [(&Method, &str); 9] = [
        (&Method::GET, "GET"),
        (&Method::HEAD, "HEAD"),
        (&Method::POST, "POST"),
        (&Method::PUT, "PUT"),
        (&Method::PATCH, "PATCH"),
        (&Method::DELETE, "DELETE"),
        (&Method::OPTIONS, "OPTIONS"),
        (&Method::TRACE, "TRACE"),
        (&Method::CONNECT, "CONNECT"),
    ];
    KNOWN.iter().find(|(m, _)| *m == method).map_or("OTHER", |(_, l)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_methods_are_labelled_other() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let odd = Method::from_bytes("X".repeat(8192).as_bytes()).unwrap();
        assert_eq!(method_label(&odd), "OTHER");
        assert_eq!(method_label(&Method::from_bytes(b"get").unwrap()), "OTHER", "methods are case-sensitive");
    }

    #[test]
    fn logged_values_are_bounded_and_free_of_control_characters_and_card_numbers() {
        let long = capped(&"a".repeat(10_000));
        assert_eq!(long.chars().count(), MAX_LOGGED_CHARS + 1);
        assert!(long.ends_with('…'));
        assert_eq!(capped("card_operate"), "card_operate");
        assert_eq!(capped("a\nb\u{1b}c"), "a?b?c");
        assert!(!capped("type 4111111111111111").contains("4111111111111111"));
    }
}
