//! What a scalar is to Kubernetes: go-yaml v2's resolution of a scalar (its `resolve` and the decoder's
//! `scalar`), followed by sigs.k8s.io/yaml's conversion to JSON, which is what kubectl sends and the API server
//! decodes. Written from go-yaml v2.4.0's rules, in podsec's own code: the first character decides what a plain
//! scalar may be, `_` is dropped before integers and YAML-style floats are tried, a float that is integral
//! reaches the API server as an integer (Go's JSON encoder writes `80.0` as `80`), and an explicit tag that does
//! not fit what the text resolves to is go-yaml's error.

use super::ScalarKind;

/// A scalar as go-yaml v2 resolves it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Resolved {
    /// `null`, `~`, nothing, or `!!null` on one of those.
    Null,
    /// A YAML 1.1 boolean (`yes`, `on`, `y`, `true`, …).
    Bool(bool),
    /// An integer in int64's range (`0x1F`, `010`, `1_000`).
    Int(i64),
    /// An integer above int64's range (go-yaml's `uint64`): no int64 field of the API accepts it.
    Unsigned(u64),
    /// A float (`0.0`, `8e1`, `.5`, `08`, `.inf`, or an integer tagged `!!float`).
    Float(f64),
    /// A string: quoted, a block scalar, tagged `!!str`, `!!binary` (decoded), `!`, any other tag, or plain
    /// text that is nothing else (timestamps are strings to Kubernetes too).
    Str,
}

impl Resolved {
    /// The integer the API server decodes from this value into an int64 field: an integer, or a float that
    /// is integral and in range (sigs.k8s.io/yaml's JSON writes it without a fraction; `-0.0` is `0`).
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Self::Int(value) => Some(value),
            // 2^63 itself is out of range; every integral float below it and from -2^63 on converts exactly.
            Self::Float(value)
                if value.fract() == 0.0 && (-TWO_TO_THE_63..TWO_TO_THE_63).contains(&value) =>
            {
                Some(value as i64)
            }
            _ => None,
        }
    }
}

/// 2^63, exactly: int64's range as floats is `-2^63..2^63`.
const TWO_TO_THE_63: f64 = 9_223_372_036_854_775_808.0;

/// The long form of the tags YAML defines (`!!str`); the tree keeps their suffix only (`str`).
pub const YAML_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// How a scalar resolves, or go-yaml's error for it. `tag` is as the tree keeps it: the suffix of a `!!` tag
/// (`str`, `int`), any other tag whole (`!`, `!foo`), `None` for none.
pub fn resolve(value: &str, style: ScalarKind, tag: Option<&str>) -> Result<Resolved, String> {
    let Some(tag) = tag else {
        // Quoted and block scalars without a tag are strings; plain ones resolve.
        return Ok(if style == ScalarKind::Plain {
            resolve_plain(value)
        } else {
            Resolved::Str
        });
    };
    match tag {
        // `!!binary` is decoded while building the tree; `!`, `!!merge`, `!!map` on a scalar and every other
        // tag leave the text as it is (go-yaml's `resolvableTag`).
        "str" | "binary" => Ok(Resolved::Str),
        "bool" | "int" | "float" | "null" | "timestamp" => {
            let resolved = resolve_plain(value);
            let fits = match (tag, resolved) {
                ("bool", Resolved::Bool(_))
                | ("int", Resolved::Int(_) | Resolved::Unsigned(_))
                | ("float", Resolved::Float(_))
                | ("null", Resolved::Null) => true,
                // go-yaml's one conversion: an integer tagged `!!float` is that float.
                ("float", Resolved::Int(_) | Resolved::Unsigned(_)) => true,
                ("timestamp", Resolved::Str) => is_timestamp_like(value),
                _ => false,
            };
            if !fits {
                // A text that starts like a timestamp resolved to one in go-yaml (its message says so).
                let found = if resolved == Resolved::Str && is_timestamp_like(value) {
                    "!!timestamp"
                } else {
                    short_tag_of(resolved)
                };
                return Err(format!("cannot decode {found} `{value}` as a !!{tag}"));
            }
            Ok(match (tag, resolved) {
                ("float", Resolved::Int(int)) => Resolved::Float(int as f64),
                ("float", Resolved::Unsigned(int)) => Resolved::Float(int as f64),
                _ => resolved,
            })
        }
        _ => Ok(Resolved::Str),
    }
}

fn short_tag_of(resolved: Resolved) -> &'static str {
    match resolved {
        Resolved::Null => "!!null",
        Resolved::Bool(_) => "!!bool",
        Resolved::Int(_) | Resolved::Unsigned(_) => "!!int",
        Resolved::Float(_) => "!!float",
        Resolved::Str => "!!str",
    }
}

/// go-yaml's timestamps start with four digits and a dash; what follows only decides between a timestamp and a
/// string, which Kubernetes reads alike (go-yaml hands a timestamp to `interface{}` as its text).
fn is_timestamp_like(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() > 4 && bytes.iter().take(4).all(u8::is_ascii_digit) && bytes.get(4) == Some(&b'-')
}

/// An untagged plain scalar (or one tagged `!!int`, `!!bool`, …) as go-yaml resolves it.
pub fn resolve_plain(value: &str) -> Resolved {
    match value {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Resolved::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Resolved::Bool(false);
        }
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match value.as_bytes().first() {
        // Go's ParseFloat on the text as written: no `_`, so only `.` digits and an exponent.
        Some(b'.') => parse_float(value, true).map_or(Resolved::Str, Resolved::Float),
        Some(b'+' | b'-' | b'0'..=b'9') => {
            // go-yaml tries a timestamp first, but a text that starts like one (`2001-`) is never a number.
            let plain: String = value.chars().filter(|c| *c != '_').collect();
            if let Some(int) = parse_go_int(&plain) {
                return match i64::try_from(int) {
                    Ok(int) => Resolved::Int(int),
                    Err(_) => u64::try_from(int).map_or(Resolved::Str, Resolved::Unsigned),
                };
            }
            parse_float(&plain, false).map_or(Resolved::Str, Resolved::Float)
        }
        _ => Resolved::Str,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint(s, 0, 64)` (the text has no `_` left): one optional
/// sign (not before an unsigned value), a base prefix in either case (`0x`, `0o`, `0b`) or a leading `0` for
/// octal. The value is returned wide, to be sorted into int64 and uint64.
fn parse_go_int(text: &str) -> Option<i128> {
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, text.get(1..)?),
        b'+' => (false, text.get(1..)?),
        _ => (false, text),
    };
    let lower = unsigned.to_ascii_lowercase();
    let (radix, digits) = if let Some(hex) = lower.strip_prefix("0x") {
        (16, hex)
    } else if let Some(binary) = lower.strip_prefix("0b") {
        (2, binary)
    } else if let Some(octal) = lower.strip_prefix("0o") {
        (8, octal)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower.get(1..)?)
    } else {
        (10, lower.as_str())
    };
    // `from_str_radix` would accept a sign of its own.
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let magnitude = i128::from(u64::from_str_radix(digits, radix).ok()?);
    if negative {
        // ParseInt's range ends at -2^63; a negative value never reads as unsigned.
        (magnitude <= 1 << 63).then_some(-magnitude)
    } else {
        Some(magnitude)
    }
}

/// A float as go-yaml reads one: after a `.` Go's ParseFloat on the text (`.5`, `.5e1`), else the YAML float
/// pattern `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`; a value out of range is no float (Go's
/// ParseFloat fails with ErrRange).
fn parse_float(text: &str, after_dot: bool) -> Option<f64> {
    let bytes = text.as_bytes();
    let mut at = 0;
    if !after_dot && matches!(bytes.first(), Some(b'+' | b'-')) {
        at += 1;
    }
    let digits = |at: &mut usize| {
        let from = *at;
        while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
            *at += 1;
        }
        *at > from
    };
    if bytes.get(at) == Some(&b'.') {
        at += 1;
        if !digits(&mut at) {
            return None;
        }
    } else {
        if !digits(&mut at) {
            return None;
        }
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            digits(&mut at);
        }
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        if !digits(&mut at) {
            return None;
        }
    }
    if at != bytes.len() {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    value.is_finite().then_some(value)
}

/// Go's `base64.StdEncoding.DecodeString`, which go-yaml applies to a `!!binary` scalar: line breaks are
/// ignored, padding is required, anything else outside the alphabet is an error. The bytes become a string as
/// Go's JSON encoder writes it (invalid UTF-8 replaced).
pub fn decode_binary(text: &str) -> Option<String> {
    let mut sextets = Vec::with_capacity(text.len());
    let mut padding = 0;
    for byte in text.bytes() {
        let sextet = match byte {
            b'\r' | b'\n' => continue,
            b'=' => {
                padding += 1;
                continue;
            }
            _ if padding > 0 => return None,
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        sextets.push(sextet);
    }
    // Whole quads only, and padding only where a quad's last one or two characters are missing.
    let total = sextets.len() + padding;
    if total % 4 != 0 || padding > 2 || (padding > 0 && sextets.len() % 4 + padding != 4) {
        return None;
    }
    let mut bytes = Vec::with_capacity(sextets.len() * 3 / 4);
    for quad in sextets.chunks(4) {
        let mut word = 0u32;
        for (i, sextet) in quad.iter().enumerate() {
            word |= u32::from(*sextet) << (18 - 6 * i);
        }
        let [_, first, second, third] = word.to_be_bytes();
        let kept = quad.len().saturating_sub(1);
        bytes.extend_from_slice([first, second, third].get(..kept).unwrap_or_default());
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(value: &str) -> Resolved {
        resolve_plain(value)
    }

    #[test]
    fn integral_floats_reach_the_api_server_as_integers() {
        for zero in ["0.0", "0e0", ".0", "-0.0", "0.", "+0.0", "0_0.0"] {
            assert_eq!(plain(zero).as_i64(), Some(0), "{zero}");
        }
        for eighty in ["80.0", "8e1", "080", "8_0.0", ".8e2"] {
            assert_eq!(plain(eighty).as_i64(), Some(80), "{eighty}");
        }
        assert_eq!(
            resolve("0", ScalarKind::Plain, Some("float")),
            Ok(Resolved::Float(0.0))
        );
        assert_eq!(
            resolve("0", ScalarKind::Quoted, Some("float")).map(Resolved::as_i64),
            Ok(Some(0))
        );
        // Not integers to the API server: fractions, out of int64's range, infinities.
        for not in [
            "1.5",
            "1e21",
            "9223372036854775808",
            "9.3e18",
            ".inf",
            ".nan",
            "1e400",
            "0x1p4",
        ] {
            assert_eq!(plain(not).as_i64(), None, "{not}");
        }
        assert_eq!(plain("08").as_i64(), Some(8)); // not octal, so a YAML float
        assert_eq!(plain("-9223372036854775808").as_i64(), Some(i64::MIN));
        assert_eq!(plain("9223372036854775807").as_i64(), Some(i64::MAX));
        assert_eq!(plain("9223372036854775808"), Resolved::Unsigned(1 << 63));
        assert_eq!(plain("1e20").as_i64(), None); // 10^20 overflows int64
        assert_eq!(plain("9e18").as_i64(), Some(9_000_000_000_000_000_000));
    }

    #[test]
    fn plain_scalars_resolve_as_go_yaml_v2_resolves_them() {
        // The first character decides: `_` starts a string, and `_` is dropped only after a digit or sign.
        assert_eq!(plain("_0"), Resolved::Str);
        assert_eq!(plain("0_1"), Resolved::Int(1));
        assert_eq!(plain("+_1"), Resolved::Int(1));
        assert_eq!(plain("1_000"), Resolved::Int(1000));
        assert_eq!(plain(".1_0"), Resolved::Str);
        assert_eq!(plain("0x1F"), Resolved::Int(31));
        assert_eq!(plain("0X1f"), Resolved::Int(31));
        assert_eq!(plain("-0b11"), Resolved::Int(-3));
        assert_eq!(plain("0o17"), Resolved::Int(15));
        assert_eq!(plain("010"), Resolved::Int(8));
        assert_eq!(plain("+0x10"), Resolved::Int(16));
        assert_eq!(plain("0x"), Resolved::Str);
        assert_eq!(plain("0x+1"), Resolved::Str);
        assert_eq!(plain("-"), Resolved::Str);
        assert_eq!(plain("2001-12-14"), Resolved::Str);
        assert_eq!(plain("yes"), Resolved::Bool(true));
        assert_eq!(plain("Off"), Resolved::Bool(false));
        assert_eq!(plain("~"), Resolved::Null);
        assert_eq!(plain("1.5"), Resolved::Float(1.5));
        assert_eq!(plain("-.5"), Resolved::Float(-0.5));
        assert_eq!(plain("1."), Resolved::Float(1.0));
        assert_eq!(plain("1e"), Resolved::Str);
        assert_eq!(plain("."), Resolved::Str);
        assert_eq!(plain(".e1"), Resolved::Str);
    }

    #[test]
    fn tags_resolve_or_fail_as_in_go_yaml_v2() {
        assert_eq!(resolve("0", ScalarKind::Plain, Some("str")), Ok(Resolved::Str));
        assert_eq!(resolve("0", ScalarKind::Plain, Some("!")), Ok(Resolved::Str));
        assert_eq!(resolve("0", ScalarKind::Plain, Some("!foo")), Ok(Resolved::Str));
        assert_eq!(resolve("0", ScalarKind::Quoted, None), Ok(Resolved::Str));
        assert_eq!(
            resolve("0", ScalarKind::Quoted, Some("int")),
            Ok(Resolved::Int(0))
        );
        assert_eq!(
            resolve("yes", ScalarKind::Quoted, Some("bool")),
            Ok(Resolved::Bool(true))
        );
        assert_eq!(resolve("~", ScalarKind::Plain, Some("null")), Ok(Resolved::Null));
        assert_eq!(
            resolve("abc", ScalarKind::Plain, Some("int")),
            Err("cannot decode !!str `abc` as a !!int".to_string())
        );
        assert_eq!(
            resolve("_0", ScalarKind::Plain, Some("int")),
            Err("cannot decode !!str `_0` as a !!int".to_string())
        );
        assert_eq!(
            resolve("0.5", ScalarKind::Plain, Some("int")),
            Err("cannot decode !!float `0.5` as a !!int".to_string())
        );
        assert_eq!(
            resolve("1", ScalarKind::Plain, Some("bool")),
            Err("cannot decode !!int `1` as a !!bool".to_string())
        );
        assert_eq!(
            resolve("x", ScalarKind::Plain, Some("null")),
            Err("cannot decode !!str `x` as a !!null".to_string())
        );
    }

    #[test]
    fn binary_is_decoded_as_go_decodes_base64() {
        assert_eq!(decode_binary("cHJpdmlsZWdlZA==").as_deref(), Some("privileged"));
        assert_eq!(
            decode_binary("cHJp\ndmls\r\nZWdlZA==").as_deref(),
            Some("privileged")
        );
        assert_eq!(decode_binary("YQ==").as_deref(), Some("a"));
        assert_eq!(decode_binary("YWI=").as_deref(), Some("ab"));
        assert_eq!(decode_binary("YWJj").as_deref(), Some("abc"));
        assert_eq!(decode_binary("").as_deref(), Some(""));
        for bad in [
            "cHJpdmlsZWdlZA",
            "YQ=",
            "Y===",
            "YQ==YQ==",
            "YW Jj",
            "YWJj!",
            "=YWJ",
        ] {
            assert_eq!(decode_binary(bad), None, "{bad}");
        }
    }
}
