//! The vendor's wall-clock formats: dates, date-times in its timezone, card expiries.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::config::upstream::WireFormats;

/// Converts between our UTC instants / dates and the vendor's configured text formats.
#[derive(Debug, Clone)]
pub struct WireClock {
    formats: WireFormats,
    offset: FixedOffset,
}

impl WireClock {
    /// Fails when `timezone` is not a fixed offset like `+08:00`.
    pub fn new(formats: &WireFormats) -> Result<Self, String> {
        let offset =
            parse_offset(&formats.timezone).ok_or_else(|| format!("invalid timezone offset {:?}", formats.timezone))?;
        Ok(Self { formats: formats.clone(), offset })
    }

    pub fn offset(&self) -> FixedOffset {
        self.offset
    }

    pub fn format_date(&self, d: NaiveDate) -> String {
        d.format(&self.formats.date).to_string()
    }

    pub fn parse_date(&self, s: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(s.trim(), &self.formats.date).ok()
    }

    /// An instant as the vendor's local wall-clock text.
    pub fn format_datetime(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.offset).format(&self.formats.datetime).to_string()
    }

    /// Vendor wall-clock text (or RFC 3339 / ISO-8601 with an offset, as `dpt_payment_bill` uses) → UTC.
    pub fn parse_datetime(&self, s: &str) -> Option<DateTime<Utc>> {
        let s = s.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Some(t.with_timezone(&Utc));
        }
        if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%:z") {
            return Some(t.with_timezone(&Utc));
        }
        let naive = NaiveDateTime::parse_from_str(s, &self.formats.datetime)
            .ok()
            .or_else(|| NaiveDate::parse_from_str(s, &self.formats.date).ok().and_then(|d| d.and_hms_opt(0, 0, 0)))?;
        self.offset.from_local_datetime(&naive).single().map(|t| t.with_timezone(&Utc))
    }

    /// The vendor's "today" (its timezone), for `startDate ≥ today` rules.
    pub fn today(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.offset).date_naive()
    }

    /// A card expiry in any accepted format → (year, month).
    pub fn parse_expiry(&self, s: &str) -> Option<(i32, u32)> {
        self.formats.expiry.iter().find_map(|f| {
            NaiveDate::parse_from_str(&format!("{}|01", s.trim()), &format!("{f}|%d"))
                .ok()
                .map(|d| (chrono::Datelike::year(&d), chrono::Datelike::month(&d)))
        })
    }

    /// An expiry as the simulator emits it.
    pub fn format_expiry(&self, year: i32, month: u32) -> String {
        NaiveDate::from_ymd_opt(year, month, 1)
            .map(|d| d.format(&self.formats.expiry_out).to_string())
            .unwrap_or_default()
    }
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("utc") || s == "Z" {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let secs = h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60;
    FixedOffset::east_opt(sign * secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> WireClock {
        WireClock::new(&crate::config::Settings::defaults().unwrap().upstream.formats).unwrap()
    }

    #[test]
    fn wall_clock_times_are_read_in_the_vendor_timezone() {
        let c = clock();
        let t = c.parse_datetime("2026-01-01 08:00:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-01-01T00:00:00+00:00");
        assert_eq!(c.format_datetime(t), "2026-01-01 08:00:00");
        let iso = c.parse_datetime("2024-11-20T13:49:56.000+08:00").unwrap();
        assert_eq!(iso.to_rfc3339(), "2024-11-20T05:49:56+00:00");
    }

    #[test]
    fn both_expiry_formats_are_accepted() {
        let c = clock();
        assert_eq!(c.parse_expiry("2028-12"), Some((2028, 12)));
        assert_eq!(c.parse_expiry("12/2028"), Some((2028, 12)));
        assert_eq!(c.parse_expiry("garbage"), None);
        assert_eq!(c.format_expiry(2028, 12), "2028-12");
    }

    #[test]
    fn offsets_parse() {
        assert_eq!(parse_offset("+08:00").unwrap().local_minus_utc(), 8 * 3600);
        assert_eq!(parse_offset("-05:30").unwrap().local_minus_utc(), -(5 * 3600 + 1800));
        assert!(parse_offset("8").is_none());
    }
}
