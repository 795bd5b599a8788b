//! UE IPv4 address pools, one per DNN (TS 23.501 §5.8.2.2: the SMF allocates the UE
//! IP address from a pool of the DNN).
//!
//! A pool is a prefix; its first host address is kept for the UPF's N6 gateway, the
//! network and broadcast addresses are never handed out. Allocation walks from where
//! the last one stopped, so a released address is reused only after the rest of the
//! pool has been, and never while a session holds it.

use std::collections::HashSet;
use std::net::Ipv4Addr;

/// An IPv4 prefix such as `10.45.0.0/16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Prefix {
    /// The network address (host bits zero).
    pub network: Ipv4Addr,
    /// Prefix length, 0..=32.
    pub len: u8,
}

impl Ipv4Prefix {
    /// Parse `a.b.c.d/n`; host bits must be zero.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (addr, len) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?}: expected a.b.c.d/len"))?;
        let network: Ipv4Addr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{addr:?} is not an IPv4 address"))?;
        let len: u8 = len
            .trim()
            .parse()
            .map_err(|_| format!("{len:?} is not a prefix length"))?;
        if len > 32 {
            return Err(format!("prefix length {len} > 32"));
        }
        let p = Ipv4Prefix { network, len };
        if u32::from(network) & !p.mask() != 0 {
            return Err(format!("{text:?} has host bits set"));
        }
        Ok(p)
    }

    fn mask(&self) -> u32 {
        if self.len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.len))
        }
    }

    /// Number of addresses in the prefix.
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.len))
    }

    /// Whether `addr` lies in the prefix.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        u32::from(addr) & self.mask() == u32::from(self.network)
    }

    /// The address at `offset` from the network address.
    fn at(&self, offset: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network).wrapping_add(offset))
    }
}

impl std::fmt::Display for Ipv4Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.len)
    }
}

/// The addresses of one DNN.
#[derive(Debug, Clone)]
pub struct Pool {
    prefix: Ipv4Prefix,
    /// Offsets UEs may get: 2 ..= size-2 (0 network, 1 the UPF's gateway, last broadcast).
    first: u32,
    last: u32,
    next: u32,
    used: HashSet<u32>,
}

impl Pool {
    /// A pool over `prefix`. A prefix with no address left for UEs (/31, /32) gives an
    /// empty pool.
    pub fn new(prefix: Ipv4Prefix) -> Self {
        let size = prefix.size();
        let first = 2;
        let last = u32::try_from(size.saturating_sub(2)).unwrap_or(u32::MAX);
        Pool {
            prefix,
            first,
            last,
            next: first,
            used: HashSet::new(),
        }
    }

    /// The prefix.
    pub fn prefix(&self) -> Ipv4Prefix {
        self.prefix
    }

    /// The gateway address the UPF answers on at N6 (the first host address).
    pub fn gateway(&self) -> Ipv4Addr {
        self.prefix.at(1)
    }

    /// Addresses UEs may hold at once.
    pub fn capacity(&self) -> u64 {
        if self.last < self.first {
            0
        } else {
            u64::from(self.last - self.first) + 1
        }
    }

    /// Addresses held now.
    pub fn in_use(&self) -> usize {
        self.used.len()
    }

    /// A free address, or `None` when the pool is exhausted.
    pub fn allocate(&mut self) -> Option<Ipv4Addr> {
        let capacity = self.capacity();
        if self.used.len() as u64 >= capacity {
            return None;
        }
        for _ in 0..capacity {
            let offset = self.next;
            self.next = if self.next >= self.last {
                self.first
            } else {
                self.next + 1
            };
            if self.used.insert(offset) {
                return Some(self.prefix.at(offset));
            }
        }
        None
    }

    /// Take a given address (a session restored with the address it had). False when it
    /// is not in the pool's range or is held already.
    pub fn reserve(&mut self, addr: Ipv4Addr) -> bool {
        if !self.prefix.contains(addr) {
            return false;
        }
        let offset = u32::from(addr).wrapping_sub(u32::from(self.prefix.network));
        (self.first..=self.last).contains(&offset) && self.used.insert(offset)
    }

    /// Give an address back. False when it was not held.
    pub fn release(&mut self, addr: Ipv4Addr) -> bool {
        if !self.prefix.contains(addr) {
            return false;
        }
        self.used
            .remove(&u32::from(addr).wrapping_sub(u32::from(self.prefix.network)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let p = Ipv4Prefix::parse("10.45.0.0/16").unwrap();
        assert_eq!(p.size(), 65536);
        assert!(p.contains(Ipv4Addr::new(10, 45, 255, 255)));
        assert!(!p.contains(Ipv4Addr::new(10, 46, 0, 0)));
        assert!(Ipv4Prefix::parse("10.45.0.1/16").is_err());
        assert!(Ipv4Prefix::parse("10.45.0.0/33").is_err());
        assert!(Ipv4Prefix::parse("10.45.0.0").is_err());
        assert_eq!(p.to_string(), "10.45.0.0/16");
    }

    #[test]
    fn allocation_skips_gateway_and_walks_on() {
        let mut pool = Pool::new(Ipv4Prefix::parse("10.45.0.0/29").unwrap());
        assert_eq!(pool.gateway(), Ipv4Addr::new(10, 45, 0, 1));
        assert_eq!(pool.capacity(), 5);
        let got: Vec<_> = std::iter::from_fn(|| pool.allocate()).collect();
        assert_eq!(got.first(), Some(&Ipv4Addr::new(10, 45, 0, 2)));
        assert_eq!(got.last(), Some(&Ipv4Addr::new(10, 45, 0, 6)));
        assert_eq!(got.len(), 5);
        assert_eq!(pool.allocate(), None);
        assert!(pool.release(Ipv4Addr::new(10, 45, 0, 4)));
        assert!(!pool.release(Ipv4Addr::new(10, 45, 0, 4)));
        assert_eq!(pool.allocate(), Some(Ipv4Addr::new(10, 45, 0, 4)));
        // Released addresses come back only after the others.
        let mut pool = Pool::new(Ipv4Prefix::parse("10.45.0.0/29").unwrap());
        let a = pool.allocate().unwrap();
        pool.release(a);
        assert_ne!(pool.allocate(), Some(a));
        assert!(!pool.reserve(Ipv4Addr::new(10, 45, 0, 1)));
        assert!(pool.reserve(a));
        assert!(!pool.reserve(a));
        assert_eq!(Pool::new(Ipv4Prefix::parse("10.0.0.0/31").unwrap()).capacity(), 0);
    }
}
