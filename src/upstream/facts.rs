//! What `card-gateway upstream-check` measured about the platform, as a small TOML file the gateway
//! reads at start-up (`upstream.facts_file`). Behaviours the gateway's safety rests on are verdicts
//! (`yes` / `no` / `unknown`), never assumptions: a missing file means "unknown" everywhere.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// A measured yes/no, or `unknown` when nothing was measured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Yes,
    No,
    #[default]
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Yes => "yes",
            Self::No => "no",
            Self::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the platform types `errorCode` in its envelope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CodeType {
    Number,
    String,
    /// Both were seen (e.g. 7-digit codes as numbers, 6-digit ones as strings).
    Mixed,
    #[default]
    Unknown,
}

impl CodeType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Number => "number",
            Self::String => "string",
            Self::Mixed => "mixed",
            Self::Unknown => "unknown",
        }
    }

    /// Folds one more observation in.
    pub fn with(self, seen: CodeType) -> CodeType {
        match (self, seen) {
            (Self::Unknown, s) | (s, Self::Unknown) => s,
            (a, b) if a == b => a,
            _ => Self::Mixed,
        }
    }
}

/// The verdicts of one `upstream-check` run. Field names are the file's keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamFacts {
    /// When the check ran (RFC 3339), and against which base URL; empty when never checked.
    pub checked_at: String,
    pub base_url: String,
    /// A repeated `userReqNo` returns the first order and moves no money again.
    pub user_req_no_deduplicated: Verdict,
    /// Order inquiry honours its `userReqNo` filter (otherwise pages carry other orders).
    pub order_query_filters_by_user_req_no: Verdict,
    /// Transaction inquiry honours its `cardId` filter (the gateway filters rows by card either way).
    pub transaction_query_filters_by_card_id: Verdict,
    /// How long a new order took to appear in order inquiry (milliseconds); absent = not measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_visible_after_ms: Option<u64>,
    pub error_codes_typed_as: CodeType,
    /// Operations the platform answered `async: true` for during the check.
    pub async_answers_seen_for: Vec<String>,
}

/// Why the facts file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FactsError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path} is not a valid facts file: {message}")]
    Parse { path: String, message: String },
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
}

/// Facts files are a few hundred bytes; anything much larger is not one.
const MAX_FILE_BYTES: u64 = 64 * 1024;

impl UpstreamFacts {
    /// Reads `path`; a missing file (or an empty path) is "nothing measured", not an error.
    pub fn load(path: &str) -> Result<Self, FactsError> {
        if path.is_empty() {
            return Ok(Self::default());
        }
        let p = Path::new(path);
        let read_err = |source| FactsError::Read { path: path.to_owned(), source };
        let meta = match std::fs::metadata(p) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(read_err(e)),
        };
        if meta.len() > MAX_FILE_BYTES {
            return Err(FactsError::Parse {
                path: path.to_owned(),
                message: format!("larger than {MAX_FILE_BYTES} bytes"),
            });
        }
        let text = std::fs::read_to_string(p).map_err(read_err)?;
        Self::parse(&text).map_err(|message| FactsError::Parse { path: path.to_owned(), message })
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.message().to_owned())
    }

    /// The file's text: a comment header, then the verdicts.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!(
            "# Written by `card-gateway upstream-check`; read by the gateway at start-up (upstream.facts_file).\n\
             # Re-run the check after any platform change instead of editing by hand.\n{body}"
        )
    }

    pub fn save(&self, path: &str) -> Result<(), FactsError> {
        std::fs::write(path, self.to_toml())
            .map_err(|e| FactsError::Write { path: path.to_owned(), message: e.to_string() })
    }

    /// Whether a repeated request number is safe to resend: only `Yes` makes an automatic resend
    /// harmless; `No` and `Unknown` mean a resend may move money twice.
    pub fn dedupes_requests(&self) -> Verdict {
        self.user_req_no_deduplicated
    }

    /// Whether order inquiry honours its `userReqNo` filter. Informational: the gateway matches rows
    /// and pages through the platform's list in every case (`operations::resolve::query_order`).
    pub fn order_query_filters(&self) -> Verdict {
        self.order_query_filters_by_user_req_no
    }

    /// One line for the start-up log.
    pub fn summary(&self) -> String {
        format!(
            "userReqNo de-duplicated: {}; order inquiry filters by userReqNo: {}; transaction inquiry filters by \
             cardId: {}; order visible after: {}; error codes typed as: {}; async answers seen for: {}",
            self.user_req_no_deduplicated,
            self.order_query_filters_by_user_req_no,
            self.transaction_query_filters_by_card_id,
            self.order_visible_after_ms.map_or_else(|| "unknown".to_owned(), |ms| format!("{ms} ms")),
            self.error_codes_typed_as.as_str(),
            if self.async_answers_seen_for.is_empty() {
                "none".to_owned()
            } else {
                self.async_answers_seen_for.join(", ")
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_means_every_verdict_is_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.toml");
        let facts = UpstreamFacts::load(path.to_str().unwrap()).unwrap();
        assert_eq!(facts.dedupes_requests(), Verdict::Unknown);
        assert_eq!(facts.order_query_filters(), Verdict::Unknown);
        assert_eq!(UpstreamFacts::load("").unwrap(), UpstreamFacts::default());
    }

    #[test]
    fn facts_round_trip_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("facts.toml");
        let path = path.to_str().unwrap();
        let facts = UpstreamFacts {
            checked_at: "2026-12-02T08:00:00Z".into(),
            base_url: "http://127.0.0.1:1".into(),
            user_req_no_deduplicated: Verdict::No,
            order_query_filters_by_user_req_no: Verdict::Yes,
            transaction_query_filters_by_card_id: Verdict::No,
            order_visible_after_ms: Some(250),
            error_codes_typed_as: CodeType::Number,
            async_answers_seen_for: vec!["card_recharge".into()],
        };
        facts.save(path).unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.contains("user_req_no_deduplicated = \"no\""), "{text}");
        assert_eq!(UpstreamFacts::load(path).unwrap(), facts);
        assert_eq!(facts.dedupes_requests(), Verdict::No);
    }

    #[test]
    fn a_malformed_or_misspelled_file_is_refused() {
        assert!(UpstreamFacts::parse("user_req_no_deduplicated = \"maybe\"").is_err());
        assert!(UpstreamFacts::parse("dedupe = \"yes\"").is_err());
    }

    #[test]
    fn code_types_fold_to_mixed() {
        assert_eq!(CodeType::Unknown.with(CodeType::Number), CodeType::Number);
        assert_eq!(CodeType::Number.with(CodeType::Number), CodeType::Number);
        assert_eq!(CodeType::Number.with(CodeType::String), CodeType::Mixed);
    }
}
