//! The call identifier carried by kind `0x01`.
//!
//! Asterisk sends the UUID given in the dialplan as 16 raw bytes. Applications know calls by
//! the 8-4-4-4-12 string, so both directions are provided, with one canonical (lower-case)
//! spelling so that the same call always gives the same string.

use std::fmt;
use std::str::FromStr;

use super::error::{ErrorCode, ProtocolError};

/// A call's UUID: the 16 raw bytes of a `0x01` message, in wire order.
///
/// No version or variant bits are checked: Asterisk forwards whatever UUID the dialplan gave.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct CallId(pub [u8; 16]);

impl CallId {
    /// The id from a `0x01` payload, or `None` unless it is exactly 16 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<CallId> {
        bytes.try_into().ok().map(CallId)
    }

    /// The 16 raw bytes, as sent on the wire.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

/// Offsets of the hyphens in the 36-character form.
const HYPHENS: [usize; 4] = [8, 13, 18, 23];

/// Canonical lower-case `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; 36];
        let mut at = 0;
        for (i, byte) in self.0.iter().enumerate() {
            // Hyphens precede bytes 4, 6, 8 and 10.
            if matches!(i, 4 | 6 | 8 | 10) {
                text[at] = b'-';
                at += 1;
            }
            text[at] = HEX[usize::from(byte >> 4)];
            text[at + 1] = HEX[usize::from(byte & 0x0f)];
            at += 2;
        }
        // Only ASCII was written, so this cannot fail.
        f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

/// Parses exactly `8-4-4-4-12` hexadecimal digits, in any case.
///
/// Braces, `urn:uuid:` prefixes and the 32-digit form without hyphens are refused
/// ([`ErrorCode::BadUuid`]): Asterisk itself only accepts the hyphenated form, so accepting more
/// here would let a typo reach the call.
impl FromStr for CallId {
    type Err = ProtocolError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || {
            ProtocolError::new(
                ErrorCode::BadUuid,
                format!("{text:?} is not a UUID of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"),
            )
        };
        let chars = text.as_bytes();
        if chars.len() != 36 || HYPHENS.iter().any(|&i| chars[i] != b'-') {
            return Err(bad());
        }
        let mut bytes = [0u8; 16];
        let mut digits = chars
            .iter()
            .enumerate()
            .filter(|(i, _)| !HYPHENS.contains(i))
            .map(|(_, c)| c);
        for byte in &mut bytes {
            let (Some(&hi), Some(&lo)) = (digits.next(), digits.next()) else {
                return Err(bad());
            };
            let (Some(hi), Some(lo)) = (hex_value(hi), hex_value(lo)) else {
                return Err(bad());
            };
            *byte = (hi << 4) | lo;
        }
        Ok(CallId(bytes))
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "4e3a1b2c-9d8f-4a7e-b6c5-0123456789ab";
    const BYTES: [u8; 16] = [
        0x4e, 0x3a, 0x1b, 0x2c, 0x9d, 0x8f, 0x4a, 0x7e, 0xb6, 0xc5, 0x01, 0x23, 0x45, 0x67, 0x89,
        0xab,
    ];

    #[test]
    fn parses_and_prints_canonically() {
        let id: CallId = ID.parse().unwrap();
        assert_eq!(id.0, BYTES);
        assert_eq!(id.to_string(), ID);
        let upper: CallId = ID.to_uppercase().parse().unwrap();
        assert_eq!(upper.to_string(), ID);
    }

    #[test]
    fn refuses_other_forms() {
        for text in [
            "",
            "4e3a1b2c9d8f4a7eb6c50123456789ab",
            "{4e3a1b2c-9d8f-4a7e-b6c5-0123456789ab}",
            "4e3a1b2c-9d8f-4a7e-b6c5-0123456789a",
            "4e3a1b2c-9d8f-4a7e-b6c5-0123456789abc",
            "ge3a1b2c-9d8f-4a7e-b6c5-0123456789ab",
            "4e3a1b2c-9d8f4-a7e-b6c5-0123456789ab",
            "4e3a1b2c-9d8f-4a7e-b6c5-0123456789é",
            "+e3a1b2c-9d8f-4a7e-b6c5-0123456789ab",
        ] {
            assert_eq!(
                text.parse::<CallId>().unwrap_err().code,
                ErrorCode::BadUuid,
                "{text:?}"
            );
        }
    }

    #[test]
    fn from_slice_needs_16_bytes() {
        assert_eq!(CallId::from_slice(&BYTES), Some(CallId(BYTES)));
        assert_eq!(CallId::from_slice(&BYTES[..15]), None);
    }
}
