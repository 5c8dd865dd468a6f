//! The kind byte: the first byte of every AudioSocket message.
//!
//! Kinds are kept as a newtype over the raw byte rather than a closed enum because a decoder
//! must carry kinds it does not know (unknown kinds are framed and reported, not fatal), and a
//! server may need to send any byte when testing Asterisk.

use super::error::{ErrorCode, ProtocolError};

/// A message kind, the raw byte at offset 0 of the header.
///
/// Any byte is representable; the associated constants name the ones with a meaning.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Kind(pub u8);

/// Sample rates of the slin kinds, indexed by `kind - 0x10`.
const SLIN_RATES: [u32; 9] = [
    8_000, 12_000, 16_000, 24_000, 32_000, 44_100, 48_000, 96_000, 192_000,
];

impl Kind {
    /// `0x00`: end of the session. Only the server sends it; since Asterisk 20.14 the dialplan
    /// continues afterwards. A server should always send it before closing the socket, because
    /// old Asterisk versions spin at 100 % CPU on a bare close.
    pub const HANGUP: Kind = Kind(0x00);
    /// `0x01`: the call's UUID, 16 raw bytes. Asterisk sends it once, as the first message.
    pub const UUID: Kind = Kind(0x01);
    /// `0x02`: two meanings, told apart by the payload length.
    ///
    /// - Empty payload: silence, defined by the protocol author's Go library only; Asterisk
    ///   neither sends nor accepts it.
    /// - 6-byte payload: DTMF of the CyCoreSystems fork: state `u8` (1 start, 0 end), digit
    ///   `u8` (ASCII), duration `u32` little-endian in milliseconds.
    pub const SILENCE: Kind = Kind(0x02);
    /// `0x03`: one DTMF digit, 1 ASCII byte `0-9 * # A-D`, sent by Asterisk at the end of the
    /// digit (Asterisk 20.14 / 21.9 / 22.4 / 23.0 and later).
    pub const DTMF: Kind = Kind(0x03);
    /// `0x10`: signed linear 16-bit little-endian, 8 kHz. On the `Dial()` and ARI paths it also
    /// labels any non-slin codec (ulaw, alaw, ...), so its payload is not always slin.
    pub const SLIN_8K: Kind = Kind(0x10);
    /// `0x11`: slin 12 kHz (Asterisk 20.17 / 21.12 / 22.7 / 23.1 and later, as all kinds above
    /// 0x10). An early draft used 0x11 for 16 kHz; the merged code did not.
    pub const SLIN_12K: Kind = Kind(0x11);
    /// `0x12`: slin 16 kHz.
    pub const SLIN_16K: Kind = Kind(0x12);
    /// `0x13`: slin 24 kHz.
    pub const SLIN_24K: Kind = Kind(0x13);
    /// `0x14`: slin 32 kHz.
    pub const SLIN_32K: Kind = Kind(0x14);
    /// `0x15`: slin 44.1 kHz.
    pub const SLIN_44K: Kind = Kind(0x15);
    /// `0x16`: slin 48 kHz.
    pub const SLIN_48K: Kind = Kind(0x16);
    /// `0x17`: slin 96 kHz.
    pub const SLIN_96K: Kind = Kind(0x17);
    /// `0x18`: slin 192 kHz.
    pub const SLIN_192K: Kind = Kind(0x18);
    /// `0xff`: error, declared by the protocol but never sent by Asterisk. The Go library puts
    /// a code in the first payload byte: 0x01 hangup, 0x02 frame forwarding, 0x04 memory.
    pub const ERROR: Kind = Kind(0xff);

    /// The sample rate in Hz carried by an audio kind, or `None` for any other kind.
    #[must_use]
    pub const fn sample_rate(self) -> Option<u32> {
        if self.is_audio() {
            Some(SLIN_RATES[(self.0 - Kind::SLIN_8K.0) as usize])
        } else {
            None
        }
    }

    /// The audio kind for a sample rate in Hz, or `None` if AudioSocket has no kind for it
    /// (e.g. 22050: resample before sending).
    #[must_use]
    pub const fn for_sample_rate(hz: u32) -> Option<Kind> {
        let mut i = 0;
        while i < SLIN_RATES.len() {
            if SLIN_RATES[i] == hz {
                return Some(Kind(Kind::SLIN_8K.0 + i as u8));
            }
            i += 1;
        }
        None
    }

    /// Whether this is one of the audio kinds `0x10..=0x18`.
    #[must_use]
    pub const fn is_audio(self) -> bool {
        self.0 >= Kind::SLIN_8K.0 && self.0 <= Kind::SLIN_192K.0
    }
}

impl From<u8> for Kind {
    fn from(byte: u8) -> Self {
        Kind(byte)
    }
}

impl From<Kind> for u8 {
    fn from(kind: Kind) -> Self {
        kind.0
    }
}

/// For bindings whose host language hands over plain numbers (a JavaScript `number`): a kind
/// outside `0..=255` is refused with [`ErrorCode::BadKind`] instead of being truncated to a
/// byte, which would silently send a different message.
impl TryFrom<i64> for Kind {
    type Error = ProtocolError;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        u8::try_from(value).map(Kind).map_err(|_| {
            ProtocolError::new(
                ErrorCode::BadKind,
                format!("kind {value} is outside 0..=255"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_round_trip_for_every_audio_kind() {
        for byte in 0x10..=0x18u8 {
            let kind = Kind(byte);
            let hz = kind.sample_rate().expect("audio kind has a rate");
            assert_eq!(Kind::for_sample_rate(hz), Some(kind));
        }
    }

    #[test]
    fn rate_table_matches_the_merged_asterisk_code() {
        assert_eq!(Kind::SLIN_8K.sample_rate(), Some(8_000));
        assert_eq!(Kind::SLIN_12K.sample_rate(), Some(12_000));
        assert_eq!(Kind::SLIN_16K.sample_rate(), Some(16_000));
        assert_eq!(Kind::SLIN_24K.sample_rate(), Some(24_000));
        assert_eq!(Kind::SLIN_32K.sample_rate(), Some(32_000));
        assert_eq!(Kind::SLIN_44K.sample_rate(), Some(44_100));
        assert_eq!(Kind::SLIN_48K.sample_rate(), Some(48_000));
        assert_eq!(Kind::SLIN_96K.sample_rate(), Some(96_000));
        assert_eq!(Kind::SLIN_192K.sample_rate(), Some(192_000));
    }

    #[test]
    fn non_audio_kinds_have_no_rate() {
        for byte in (0..=255u8).filter(|b| !(0x10..=0x18).contains(b)) {
            assert!(!Kind(byte).is_audio());
            assert_eq!(Kind(byte).sample_rate(), None);
        }
        assert_eq!(Kind::for_sample_rate(22_050), None);
        assert_eq!(Kind::for_sample_rate(0), None);
    }

    #[test]
    fn integer_conversion_refuses_out_of_range() {
        assert_eq!(Kind::try_from(255i64).unwrap(), Kind::ERROR);
        assert_eq!(Kind::try_from(256i64).unwrap_err().code, ErrorCode::BadKind);
        assert_eq!(Kind::try_from(-1i64).unwrap_err().code, ErrorCode::BadKind);
    }
}
