//! `[cors]`: which browser origins may call the API from a page (issue 11 item 1).
//!
//! Bearer tokens travel in `Authorization`, never in cookies, so credentials are never allowed
//! (`Access-Control-Allow-Credentials` is never sent). Empty `allowed_origins` = CORS off.

use serde::Deserialize;

/// The entry that allows any origin (development only).
pub const ANY_ORIGIN: &str = "*";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsSettings {
    /// Exact origins (`scheme://host[:port]`, as a browser sends `Origin`) allowed to call the API from
    /// a page; `"*"` = any (refused in production); empty = no CORS headers at all.
    pub allowed_origins: Vec<String>,
    /// How long (seconds) a browser may cache a preflight answer (`Access-Control-Max-Age`).
    pub max_age_s: u64,
}

impl CorsSettings {
    /// CORS is on when any origin is listed.
    pub fn enabled(&self) -> bool {
        !self.allowed_origins.is_empty()
    }

    /// `"*"` is listed.
    pub fn allows_any_origin(&self) -> bool {
        self.allowed_origins.iter().any(|o| o.trim() == ANY_ORIGIN)
    }

    /// Problems with the settings, each naming the key; empty when none.
    pub fn problems(&self, production: bool) -> Vec<String> {
        let mut p = Vec::new();
        for origin in &self.allowed_origins {
            if origin.trim() == ANY_ORIGIN {
                if production {
                    p.push(
                        "cors.allowed_origins = [\"*\"] is not allowed in production: list the exact origins \
                         of the frontends (e.g. \"https://console.example.com\")"
                            .to_owned(),
                    );
                }
            } else if let Err(why) = check_origin(origin) {
                p.push(format!("cors.allowed_origins entry {origin:?} {why}"));
            }
        }
        if self.max_age_s > u64::from(u32::MAX) {
            p.push(format!("cors.max_age_s ({}) is too large", self.max_age_s));
        }
        p
    }
}

/// An origin exactly as a browser sends it in `Origin`: `http` or `https`, a host, an optional
/// non-default port, lower case, and no user, path, query, fragment or trailing slash (the
/// `Origin` header is compared byte for byte, so anything else would never match).
pub fn check_origin(origin: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(origin).map_err(|e| format!("is not scheme://host[:port] ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be http:// or https://".to_owned());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host".to_owned());
    }
    let canonical = url.origin().ascii_serialization();
    if canonical != origin {
        return Err(format!(
            "must be scheme://host[:port] exactly as a browser sends it (no path, no trailing slash, lower case, \
             no default port): did you mean {canonical:?}?"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(origins: &[&str]) -> CorsSettings {
        CorsSettings { allowed_origins: origins.iter().map(|s| (*s).to_owned()).collect(), max_age_s: 600 }
    }

    #[test]
    fn exact_origins_are_accepted() {
        for ok in
            ["https://console.example.com", "http://localhost:5173", "http://127.0.0.1:8081", "https://[::1]:8443"]
        {
            assert_eq!(check_origin(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn origins_a_browser_would_never_send_are_refused() {
        for bad in [
            "https://console.example.com/",
            "https://console.example.com/app",
            "https://console.example.com?x=1",
            "https://Console.example.com",
            "https://console.example.com:443",
            "https://user@console.example.com",
            "console.example.com",
            "ftp://console.example.com",
            "null",
            "",
        ] {
            assert!(check_origin(bad).is_err(), "{bad:?} was accepted");
        }
        let p = with(&["https://console.example.com/"]).problems(false);
        assert!(p[0].contains("cors.allowed_origins") && p[0].contains("\"https://console.example.com\"?"), "{p:?}");
    }

    #[test]
    fn the_wildcard_is_refused_in_production_only() {
        let s = with(&["*"]);
        assert!(s.enabled() && s.allows_any_origin());
        assert_eq!(s.problems(false), Vec::<String>::new());
        assert!(s.problems(true)[0].contains("not allowed in production"), "{:?}", s.problems(true));
        assert!(!with(&[]).enabled());
    }
}
