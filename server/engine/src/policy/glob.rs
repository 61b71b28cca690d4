//! Globs (`skip:` and exemption names in the project file) and dates (exemption expiry).

/// A calendar date, for exemption expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u32,
    /// Day, 1–31.
    pub day: u32,
}

impl Date {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().splitn(3, '-');
        let year = parts.next()?.parse().ok()?;
        let month = parts.next()?.parse().ok()?;
        let day = parts.next()?.parse().ok()?;
        ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(Self { year, month, day })
    }

    /// The civil date `days` days after 1970-01-01 (Howard Hinnant's algorithm).
    pub fn from_unix_days(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Self { year, month, day }
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Matches `text` against a glob with `*` (anything but `/`), `**` (anything) and `?` (one character).
pub fn glob_match(glob: &str, text: &str) -> bool {
    fn go(glob: &[char], text: &[char]) -> bool {
        match glob.split_first() {
            None => text.is_empty(),
            Some(('*', rest)) if rest.first() == Some(&'*') => {
                let rest = rest.get(1..).unwrap_or_default();
                let rest = rest.strip_prefix(&['/']).unwrap_or(rest);
                (0..=text.len()).any(|i| go(rest, text.get(i..).unwrap_or_default()))
            }
            Some(('*', rest)) => (0..=text.len())
                .take_while(|i| *i == 0 || text.get(i - 1) != Some(&'/'))
                .any(|i| go(rest, text.get(i..).unwrap_or_default())),
            Some(('?', rest)) => text
                .split_first()
                .is_some_and(|(c, tail)| *c != '/' && go(rest, tail)),
            Some((c, rest)) => text
                .split_first()
                .is_some_and(|(t, tail)| t == c && go(rest, tail)),
        }
    }
    let glob: Vec<char> = glob.chars().collect();
    let text: Vec<char> = text.chars().collect();
    go(&glob, &text)
}
