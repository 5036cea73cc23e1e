//! Webhook capture mode (`upstream-check --listen-webhooks ADDR --for 10m`): receives the platform's
//! notifications for a while, opens each one like the gateway does (whole body sealed, `data` sealed,
//! or plain `data`), classifies it by `type`, compares its fields with what the normaliser's wire
//! types expect, and stores redacted samples (PAN masked, CVV/OTP/activation codes replaced) for new
//! test fixtures. Answers `SUCCESS` to what it could open, so the platform stops retrying.

use std::{collections::BTreeMap, net::TcpListener, path::PathBuf, sync::Mutex, time::Duration};

use actix_web::{App, HttpResponse, HttpServer, web};
use serde::Serialize;
use serde_json::Value;

use super::shape::{self, Codes, Expect, Field, Finding, Kind, Root, Severity, opt, req};
use crate::{config::Settings, envelope::EnvelopeCodec, sensitive::mask_card_numbers, upstream::formats::WireClock};

const WEBHOOK_CARD_INFO: &[Field] = &[
    opt("cardNo", Kind::Text),
    opt("cardVerifyNo", Kind::Text),
    opt("cardAlias", Kind::Text),
    opt("cardLabel", Kind::Text),
    opt("cardExpiryDate", Kind::Expiry),
    opt("localCurrency", Kind::Text),
    opt("startActiveDate", Kind::Date),
    opt("endCloseDate", Kind::Date),
];

/// `card_operate` variant A (`CardOperateA`).
const CARD_OPERATE_A: &[Field] = &[
    req("orderId", Kind::Id),
    opt("cardId", Kind::Id),
    opt("groupId", Kind::Id),
    req("userReqNo", Kind::Id),
    req("opType", Kind::Int).coded(Codes::OpType),
    req("status", Kind::Int),
    req("amount", Kind::Amount),
    req("fee", Kind::Amount),
    opt("cardInfo", Kind::Object(WEBHOOK_CARD_INFO)),
    req("createAt", Kind::DateTime),
];

/// `card_operate` variant B (`CardOperateB`).
const CARD_OPERATE_B: &[Field] = &[
    req("orderId", Kind::Id),
    req("resourceId", Kind::Id),
    req("userReqNo", Kind::Id),
    req("transactionType", Kind::Int).coded(Codes::OpType),
    req("transactionStatus", Kind::Int),
    req("amount", Kind::Amount),
    req("fee", Kind::Amount),
    req("createTime", Kind::DateTime),
];

const TRADE_FEE: &[Field] = &[
    req("cardId", Kind::Id),
    req("opType", Kind::Int),
    req("receiptNo", Kind::Id),
    opt("recordNo", Kind::Id),
    opt("userNo", Kind::Id),
    req("realCcy", Kind::Text),
    req("realFee", Kind::Amount),
    opt("createAt", Kind::DateTime),
];

const OTP: &[Field] = &[
    req("otp", Kind::Text),
    req("cardId", Kind::Id),
    opt("cardNo", Kind::Text),
    opt("transactionCurrency", Kind::Text),
    opt("transactionAmount", Kind::Amount),
    opt("merchantName", Kind::Text),
];

const DPT_PAYMENT: &[Field] = &[
    req("txId", Kind::Text),
    req("fromAddress", Kind::Text),
    req("toAddress", Kind::Text),
    req("paymentAmount", Kind::Amount),
    req("factAmount", Kind::Amount),
    req("fee", Kind::Amount),
    req("serialNumber", Kind::Id),
    req("orderNo", Kind::Id),
    req("transactionTime", Kind::DateTime),
];

const ACTIVATION_CODE: &[Field] = &[req("cardId", Kind::Id), req("activeCode", Kind::Text).aka(&["activationCode"])];

const ACTIVATION_STATUS: &[Field] = &[req("cardId", Kind::Id), req("staus", Kind::Int).aka(&["status"])];

/// The expected shape of a webhook type (`None`: a type the normaliser does not know).
fn shape_of(kind: &str, data: &Value) -> Option<(&'static str, &'static [Field])> {
    Some(match kind {
        "card_operate" | "type_card_operate" if data.get("transactionType").is_some() => {
            ("card_operate (B)", CARD_OPERATE_B)
        }
        "card_operate" | "type_card_operate" => ("card_operate (A)", CARD_OPERATE_A),
        "card_transaction" => ("card_transaction", super::expected::TRANSACTION),
        "trade_fee" => ("trade_fee", TRADE_FEE),
        "card_3ds_otp" => ("card_3ds_otp", OTP),
        "dpt_payment_bill" => ("dpt_payment_bill", DPT_PAYMENT),
        "card_activation_code" => ("card_activation_code", ACTIVATION_CODE),
        "card_activation_status" => ("card_activation_status", ACTIVATION_STATUS),
        _ => return None,
    })
}

/// Keys whose values are secrets: replaced outright in samples.
const SECRET_KEYS: &[&str] = &["cardVerifyNo", "cvv", "cvv2", "otp", "activeCode", "activationCode", "pin", "password"];

/// A redacted copy: `cardNo` masked to BIN + last 4, secrets replaced, card numbers in any text masked.
pub fn redact(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, x)| {
                    let out = if SECRET_KEYS.iter().any(|s| s.eq_ignore_ascii_case(k)) && !x.is_null() {
                        Value::String("***".into())
                    } else if k.eq_ignore_ascii_case("cardNo") {
                        match x {
                            Value::String(s) => Value::String(crate::sensitive::mask_pan(s)),
                            Value::Number(n) => Value::String(crate::sensitive::mask_pan(&n.to_string())),
                            other => redact(other),
                        }
                    } else {
                        redact(x)
                    };
                    (k.clone(), out)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        Value::String(s) => Value::String(mask_card_numbers(s)),
        Value::Number(n) if n.to_string().len() >= 12 => Value::String(mask_card_numbers(&n.to_string())),
        other => other.clone(),
    }
}

/// What was seen of one webhook type.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TypeReport {
    pub count: u64,
    /// `data_encrypted`, `body_encrypted` or `plain` → count.
    pub sealing: BTreeMap<&'static str, u64>,
    /// The shape the normaliser expects (`card_operate (A)`/`(B)` …), or absent for an unknown type.
    pub expected_shape: Option<&'static str>,
    pub findings: Vec<Finding>,
    /// Files written under the samples directory.
    pub samples: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CaptureReport {
    pub listen: String,
    pub received: u64,
    /// Bodies that could not be opened, by reason.
    pub rejected: BTreeMap<&'static str, u64>,
    /// Bodies whose `userNo` is not ours.
    pub foreign: u64,
    pub types: BTreeMap<String, TypeReport>,
}

impl CaptureReport {
    pub fn to_table(&self) -> String {
        let mut out = format!("webhook capture on {}: {} received\n", self.listen, self.received);
        for (reason, n) in &self.rejected {
            out.push_str(&format!("  rejected ({reason}): {n}\n"));
        }
        if self.foreign > 0 {
            out.push_str(&format!("  userNo not ours: {}\n", self.foreign));
        }
        for (kind, t) in &self.types {
            let sealing: Vec<String> = t.sealing.iter().map(|(k, n)| format!("{k} {n}")).collect();
            out.push_str(&format!(
                "\n{kind}: {} received ({}), expected shape: {}\n",
                t.count,
                sealing.join(", "),
                t.expected_shape.unwrap_or("none — the normaliser does not know this type")
            ));
            for f in t.findings.iter().filter(|f| f.severity > Severity::Info) {
                let key = f.config_key.as_deref().map(|k| format!(" → {k}")).unwrap_or_default();
                out.push_str(&format!("  {} {}: {}{key}\n", f.problem, f.path, f.detail));
            }
            let absent: Vec<&str> =
                t.findings.iter().filter(|f| f.problem == "absent_optional").map(|f| f.path.as_str()).collect();
            if !absent.is_empty() {
                out.push_str(&format!("  optional fields not sent: {}\n", absent.join(", ")));
            }
            if !t.samples.is_empty() {
                out.push_str(&format!("  redacted samples: {}\n", t.samples.join(", ")));
            }
        }
        out
    }
}

/// Samples kept per webhook type.
const SAMPLES_PER_TYPE: usize = 5;
/// Largest body accepted.
const MAX_BODY: usize = 1024 * 1024;

struct Capture {
    codec: EnvelopeCodec,
    merchant_no: String,
    clock: WireClock,
    settings: Settings,
    samples_dir: Option<PathBuf>,
    report: Mutex<CaptureReport>,
}

impl Capture {
    fn receive(&self, body: &[u8]) -> bool {
        let mut report = self.report.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        report.received += 1;
        let reject = |report: &mut CaptureReport, reason| {
            *report.rejected.entry(reason).or_default() += 1;
            false
        };
        let Ok(text) = std::str::from_utf8(body).map(str::trim) else { return reject(&mut report, "not utf-8") };
        let (envelope, body_sealed) = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            match self.codec.open_bytes(text).ok().and_then(|j| serde_json::from_slice::<Value>(&j).ok()) {
                Some(v) => (v, true),
                None => return reject(&mut report, "sealed body does not open"),
            }
        } else {
            match serde_json::from_str::<Value>(text) {
                Ok(v) => (v, false),
                Err(_) => return reject(&mut report, "not JSON"),
            }
        };
        let Some(kind) = envelope.get("type").and_then(Value::as_str).map(str::trim) else {
            return reject(&mut report, "no type");
        };
        if kind.is_empty() || kind.len() > 64 || !kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return reject(&mut report, "invalid type");
        }
        let kind = kind.to_owned();
        let user_no = match envelope.get("userNo") {
            Some(Value::String(s)) => s.trim().to_owned(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        if user_no != self.merchant_no {
            report.foreign += 1;
        }
        let (data, sealing) = match envelope.get("data") {
            Some(Value::String(hex)) => {
                match self.codec.open_bytes(hex).ok().and_then(|j| serde_json::from_slice::<Value>(&j).ok()) {
                    Some(v) => (v, "data_encrypted"),
                    None => return reject(&mut report, "data does not open"),
                }
            }
            Some(v @ Value::Object(_)) => (v.clone(), if body_sealed { "body_encrypted" } else { "plain" }),
            _ => return reject(&mut report, "no data"),
        };
        let expected = shape_of(&kind, &data);
        let expect = Expect {
            clock: &self.clock,
            datetime_format: &self.settings.upstream.formats.datetime,
            date_format: &self.settings.upstream.formats.date,
            codes: &self.settings.upstream.codes,
        };
        let findings =
            expected.map(|(_, fields)| shape::check(&data, Root::Object(fields), &expect)).unwrap_or_default();
        let entry = report.types.entry(kind.clone()).or_default();
        entry.count += 1;
        *entry.sealing.entry(sealing).or_default() += 1;
        entry.expected_shape = expected.map(|(name, _)| name);
        for f in findings {
            if !entry.findings.iter().any(|e| e.path == f.path && e.problem == f.problem) {
                entry.findings.push(f);
            }
        }
        if let Some(dir) = &self.samples_dir
            && entry.samples.len() < SAMPLES_PER_TYPE
        {
            let name = format!("{kind}-{}.json", entry.samples.len() + 1);
            let sample = serde_json::json!({
                "type": kind,
                "version": envelope.get("version").cloned().unwrap_or(Value::Null),
                "sealing": sealing,
                "data": redact(&data),
            });
            let text = serde_json::to_string_pretty(&sample).unwrap_or_default();
            if std::fs::write(dir.join(&name), text).is_ok() {
                entry.samples.push(name);
            }
        }
        true
    }
}

async fn receive(body: web::Bytes, capture: web::Data<Capture>) -> HttpResponse {
    if capture.receive(&body) {
        HttpResponse::Ok().content_type("text/plain").body("SUCCESS")
    } else {
        HttpResponse::BadRequest().content_type("text/plain").body("FAIL")
    }
}

/// Captures webhooks on `listener` for `duration`, then reports. Samples go to `samples_dir`
/// (created when missing) when given.
pub async fn capture(
    settings: &Settings,
    listener: TcpListener,
    duration: Duration,
    samples_dir: Option<PathBuf>,
) -> anyhow::Result<CaptureReport> {
    if let Some(dir) = &samples_dir {
        std::fs::create_dir_all(dir)?;
    }
    let listen = listener.local_addr()?.to_string();
    let capture = web::Data::new(Capture {
        codec: crate::startup::load_codec(settings)?,
        merchant_no: settings.upstream.merchant_no.clone(),
        clock: WireClock::new(&settings.upstream.formats).map_err(anyhow::Error::msg)?,
        settings: settings.clone(),
        samples_dir,
        report: Mutex::new(CaptureReport { listen, ..Default::default() }),
    });
    let data = capture.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(MAX_BODY))
            .default_service(web::post().to(receive))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    let handle = server.handle();
    let join = tokio::spawn(server);
    tokio::time::sleep(duration).await;
    handle.stop(true).await;
    let _ = join.await;
    let report = capture.report.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn samples_never_keep_card_numbers_or_secrets() {
        let v = json!({
            "cardNo": "4111111111111111",
            "otp": "123456",
            "cardInfo": {"cardVerifyNo": "012", "cardNo": 5222290000000001u64},
            "merchantName": "paid with 4111 1111 1111 1111",
            "amount": 12.5
        });
        let r = redact(&v);
        let text = r.to_string();
        assert!(!text.contains("4111111111111111") && !text.contains("4111 1111 1111 1111"), "{text}");
        assert!(!text.contains("123456") && !text.contains("\"012\""), "{text}");
        assert!(!text.contains("5222290000000001"), "{text}");
        assert_eq!(r["cardNo"], "411111******1111");
        assert_eq!(r["amount"], 12.5);
    }
}
