//! The `allow` option: peers that may connect, as addresses or CIDR blocks, IPv4 or IPv6
//! (`10.0.0.0/8`, `127.0.0.1`, `::1`, `fd00::/8`). The twin of src/net/allow.ts; hand-written
//! because it is twenty lines of prefix arithmetic.

use std::net::IpAddr;

use crate::error::{Code, EngineError};

/// One CIDR block: an address with the first `prefix` bits significant.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Block {
    network: IpAddr,
    prefix: u8,
}

impl Block {
    fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address) {
            (IpAddr::V4(net), IpAddr::V4(addr)) => same_prefix(
                u32::from(net).into(),
                u32::from(addr).into(),
                32,
                self.prefix,
            ),
            (IpAddr::V6(net), IpAddr::V6(addr)) => {
                same_prefix(u128::from(net), u128::from(addr), 128, self.prefix)
            }
            _ => false,
        }
    }
}

/// Whether the top `prefix` bits of two `width`-bit numbers agree.
fn same_prefix(a: u128, b: u128, width: u32, prefix: u8) -> bool {
    let prefix = u32::from(prefix);
    prefix == 0 || (a ^ b) >> (width - prefix) == 0
}

/// Peers allowed to connect. An empty list allows everyone.
#[derive(Clone, Default, Debug)]
pub struct AllowList {
    blocks: Vec<Block>,
}

impl AllowList {
    /// Parses entries such as `10.0.0.0/8`, `127.0.0.1` or `fd00::/8`.
    ///
    /// # Errors
    ///
    /// `INVALID_ARGUMENT` naming the first entry that is not an address or CIDR block.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<AllowList, EngineError> {
        let blocks = entries
            .iter()
            .map(|entry| parse_block(entry.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(AllowList { blocks })
    }

    /// Whether `address` may connect. IPv4-mapped IPv6 (`::ffff:10.0.0.1`) is judged as IPv4.
    #[must_use]
    pub fn allows(&self, address: IpAddr) -> bool {
        if self.blocks.is_empty() {
            return true;
        }
        let address = address.to_canonical();
        self.blocks.iter().any(|block| block.contains(address))
    }
}

fn parse_block(entry: &str) -> Result<Block, EngineError> {
    let invalid = || {
        EngineError::new(
            Code::InvalidArgument,
            format!("allow: not an address or CIDR block: {entry:?}"),
        )
    };
    let (address, prefix) = match entry.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (entry, None),
    };
    let network: IpAddr = address.parse().map_err(|_| invalid())?;
    let max = if network.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => max,
        Some(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            text.parse::<u8>().map_err(|_| invalid())?
        }
        Some(_) => return Err(invalid()),
    };
    if prefix > max {
        return Err(invalid());
    }
    Ok(Block { network, prefix })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AllowList {
        AllowList::parse(entries).unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn empty_allows_everyone() {
        assert!(list(&[]).allows(ip("203.0.113.9")));
        assert!(list(&[]).allows(ip("::1")));
    }

    #[test]
    fn ipv4_blocks_and_single_addresses() {
        let allow = list(&["10.0.0.0/8", "192.168.1.7"]);
        assert!(allow.allows(ip("10.255.0.1")));
        assert!(!allow.allows(ip("11.0.0.1")));
        assert!(allow.allows(ip("192.168.1.7")));
        assert!(!allow.allows(ip("192.168.1.8")));
        assert!(list(&["0.0.0.0/0"]).allows(ip("8.8.8.8")));
    }

    #[test]
    fn ipv6_blocks_and_mapped_ipv4() {
        let allow = list(&["fd00::/8", "127.0.0.0/8"]);
        assert!(allow.allows(ip("fd12::1")));
        assert!(!allow.allows(ip("fe80::1")));
        assert!(allow.allows(ip("::ffff:127.0.0.1")));
        assert!(!allow.allows(ip("::ffff:10.0.0.1")));
        assert!(!list(&["fd00::/8"]).allows(ip("127.0.0.1")));
    }

    #[test]
    fn refuses_what_is_not_a_block() {
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0.0/8/8",
            "nope",
            "10.0.0.0/-1",
            "10.0.0/8",
        ] {
            let error = AllowList::parse(&[bad]).unwrap_err();
            assert_eq!(error.code, Code::InvalidArgument, "{bad}");
        }
    }
}
