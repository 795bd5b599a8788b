//! A NAS security context: the selected NEA/NIA, KNASenc/KNASint derived
//! from KAMF, and the two NAS COUNTs — enough to protect and check the
//! payload of a security-protected 5GS NAS message (TS 24.501 §4.4.3–4.4.5,
//! TS 33.501 §6.4.3–6.4.4). Sans-IO: the NAS codec frames the result.
//!
//! What goes where (TS 24.501 §4.4.3.3, §4.4.5, §9.1.1): the payload (the
//! plain NAS message) is ciphered with the NAS COUNT of the message; the
//! NAS-MAC is computed over the sequence number octet followed by the
//! (ciphered) payload; the wire carries MAC ‖ SQN ‖ payload after the
//! extended protocol discriminator and security header type.

use crate::Error;
use crate::count::{Direction, NasConnection, NasCount, RxCount, TxCount};
use crate::keys;
use crate::nea_nia::{Nea, Nia, nea, nia, nia_verify};

/// Which end of N1 this context sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The UE: sends uplink, receives downlink.
    Ue,
    /// The AMF: sends downlink, receives uplink.
    Network,
}

impl Role {
    fn tx(self) -> Direction {
        match self {
            Role::Ue => Direction::Uplink,
            Role::Network => Direction::Downlink,
        }
    }

    fn rx(self) -> Direction {
        match self {
            Role::Ue => Direction::Downlink,
            Role::Network => Direction::Uplink,
        }
    }
}

/// A protected payload ready for framing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    /// The full NAS COUNT used.
    pub count: NasCount,
    /// The sequence number octet to put on the wire.
    pub sqn: u8,
    /// NAS-MAC over SQN ‖ payload.
    pub mac: [u8; 4],
    /// The payload, ciphered if ciphering was asked for.
    pub payload: Vec<u8>,
}

/// One NAS security context (per access; TS 33.501 §6.4.2).
#[derive(Clone)]
pub struct NasSecurityContext {
    role: Role,
    nea: Nea,
    nia: Nia,
    knas_enc: [u8; 16],
    knas_int: [u8; 16],
    connection: NasConnection,
    tx: TxCount,
    rx: RxCount,
}

impl core::fmt::Debug for NasSecurityContext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NasSecurityContext")
            .field("role", &self.role)
            .field("nea", &self.nea)
            .field("nia", &self.nia)
            .field("connection", &self.connection)
            .field("tx", &self.tx.peek())
            .field("rx", &self.rx.last())
            .finish_non_exhaustive()
    }
}

impl NasSecurityContext {
    /// A fresh context after NAS Security Mode Control: keys from KAMF
    /// (TS 33.501 A.8) and both COUNTs at 0.
    pub fn new(role: Role, kamf: &[u8; 32], nea: Nea, nia: Nia, connection: NasConnection) -> Self {
        Self {
            role,
            nea,
            nia,
            knas_enc: keys::knas_enc(kamf, nea.id()),
            knas_int: keys::knas_int(kamf, nia.id()),
            connection,
            tx: TxCount::new(),
            rx: RxCount::new(),
        }
    }

    /// The selected ciphering algorithm.
    pub fn nea(&self) -> Nea {
        self.nea
    }

    /// The selected integrity algorithm.
    pub fn nia(&self) -> Nia {
        self.nia
    }

    /// The COUNT the next sent message will use.
    pub fn next_tx_count(&self) -> NasCount {
        self.tx.peek()
    }

    /// The COUNT of the last accepted received message.
    pub fn last_rx_count(&self) -> Option<NasCount> {
        self.rx.last()
    }

    /// KNASint (e.g. for the gNB-side key checks in tests).
    pub fn knas_int(&self) -> &[u8; 16] {
        &self.knas_int
    }

    /// KNASenc.
    pub fn knas_enc(&self) -> &[u8; 16] {
        &self.knas_enc
    }

    /// Protect an outgoing plain NAS message with the next COUNT: cipher it
    /// if `cipher` (security header type 2/4), then MAC SQN ‖ payload.
    pub fn protect(&mut self, plain: &[u8], cipher: bool) -> Result<Protected, Error> {
        let count = self.tx.take()?;
        let c = count.count_input();
        let bearer = self.connection.bearer();
        let dir = self.role.tx();
        let payload = if cipher {
            nea(self.nea, &self.knas_enc, c, bearer, dir, plain)
        } else {
            plain.to_vec()
        };
        let mac = nia(
            self.nia,
            &self.knas_int,
            c,
            bearer,
            dir,
            &sqn_and(count.sqn(), &payload),
        );
        Ok(Protected {
            count,
            sqn: count.sqn(),
            mac,
            payload,
        })
    }

    /// Decipher the NAS message container of the last accepted received message
    /// with that message's COUNT (TS 24.501 §4.4.6: an initial NAS message sent with a
    /// valid context carries the complete message ciphered in its container, while the
    /// message itself is only integrity protected). `None` before any message came.
    pub fn decipher_container_of_last_rx(&self, container: &[u8]) -> Option<Vec<u8>> {
        let count = self.rx.last()?;
        Some(nea(
            self.nea,
            &self.knas_enc,
            count.count_input(),
            self.connection.bearer(),
            self.role.rx(),
            container,
        ))
    }

    /// Check an incoming message: estimate its COUNT from `sqn`, verify the
    /// MAC in constant time, refuse replays, then decipher if `ciphered`.
    /// On any error the context is unchanged (the message is discarded,
    /// TS 24.501 §4.4.4.2/§4.4.4.3).
    pub fn unprotect(&mut self, sqn: u8, mac: &[u8; 4], payload: &[u8], ciphered: bool) -> Result<Vec<u8>, Error> {
        let count = self.rx.estimate(sqn)?;
        let c = count.count_input();
        let bearer = self.connection.bearer();
        let dir = self.role.rx();
        nia_verify(self.nia, &self.knas_int, c, bearer, dir, &sqn_and(sqn, payload), mac)?;
        self.rx.accept(count)?;
        Ok(if ciphered {
            nea(self.nea, &self.knas_enc, c, bearer, dir, payload)
        } else {
            payload.to_vec()
        })
    }
}

fn sqn_and(sqn: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(payload.len() + 1);
    v.push(sqn);
    v.extend_from_slice(payload);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(nea: Nea, nia: Nia) -> (NasSecurityContext, NasSecurityContext) {
        let kamf = [0x5au8; 32];
        (
            NasSecurityContext::new(Role::Ue, &kamf, nea, nia, NasConnection::ThreeGpp),
            NasSecurityContext::new(Role::Network, &kamf, nea, nia, NasConnection::ThreeGpp),
        )
    }

    // A Registration Complete (TS 24.501 §8.2.8): EPD 7e, plain header 00, type 43.
    static REGISTRATION_COMPLETE: [u8; 3] = [0x7e, 0x00, 0x43];

    #[test]
    fn uplink_and_downlink_round_trip_for_every_algorithm_pair() {
        for nea_alg in [Nea::Nea0, Nea::Nea1, Nea::Nea2, Nea::Nea3] {
            for nia_alg in [Nia::Nia1, Nia::Nia2, Nia::Nia3] {
                let (mut ue, mut amf) = pair(nea_alg, nia_alg);
                for i in 0..300u32 {
                    let p = ue.protect(&REGISTRATION_COMPLETE, true).unwrap();
                    assert_eq!(p.count.value(), i);
                    let got = amf.unprotect(p.sqn, &p.mac, &p.payload, true).unwrap();
                    assert_eq!(got, REGISTRATION_COMPLETE);
                    let d = amf.protect(&REGISTRATION_COMPLETE, false).unwrap();
                    assert_eq!(d.payload, REGISTRATION_COMPLETE);
                    assert_eq!(
                        ue.unprotect(d.sqn, &d.mac, &d.payload, false).unwrap(),
                        REGISTRATION_COMPLETE
                    );
                }
                // SQN wrapped once: overflow counter estimated correctly.
                assert_eq!(amf.last_rx_count(), Some(NasCount::from_parts(1, 43)));
            }
        }
    }

    #[test]
    fn container_of_an_initial_message_deciphers_with_that_messages_count() {
        // TS 24.501 §4.4.6: the UE ciphers the complete message with the COUNT the
        // integrity-protected initial message carries.
        let (mut ue, mut amf) = pair(Nea::Nea2, Nia::Nia2);
        assert_eq!(amf.decipher_container_of_last_rx(&[1, 2, 3]), None);
        for _ in 0..3 {
            let p = ue.protect(&REGISTRATION_COMPLETE, true).unwrap();
            amf.unprotect(p.sqn, &p.mac, &p.payload, true).unwrap();
        }
        let count = ue.next_tx_count().count_input();
        let full = [0x7e, 0x00, 0x41, 0x79, 0x00, 0x01];
        let container = nea(Nea::Nea2, ue.knas_enc(), count, 1, Direction::Uplink, &full);
        assert_ne!(container, full);
        let p = ue.protect(&REGISTRATION_COMPLETE, false).unwrap();
        amf.unprotect(p.sqn, &p.mac, &p.payload, false).unwrap();
        assert_eq!(amf.decipher_container_of_last_rx(&container).unwrap(), full);
    }

    #[test]
    fn mac_matches_direct_computation() {
        // MAC input = SQN ‖ payload with the uplink DIRECTION and BEARER 1.
        let (mut ue, _) = pair(Nea::Nea0, Nia::Nia2);
        let p = ue.protect(&REGISTRATION_COMPLETE, false).unwrap();
        let direct = nia(
            Nia::Nia2,
            ue.knas_int(),
            0,
            1,
            Direction::Uplink,
            &[0x00, 0x7e, 0x00, 0x43],
        );
        assert_eq!(p.mac, direct);
    }

    #[test]
    fn tampering_replay_and_wrong_direction_are_rejected() {
        let (mut ue, mut amf) = pair(Nea::Nea2, Nia::Nia2);
        let p = ue.protect(&REGISTRATION_COMPLETE, true).unwrap();
        let mut bad = p.payload.clone();
        bad[0] ^= 1;
        assert_eq!(amf.unprotect(p.sqn, &p.mac, &bad, true), Err(Error::MacFailure));
        assert_eq!(
            amf.unprotect(p.sqn.wrapping_add(1), &p.mac, &p.payload, true),
            Err(Error::MacFailure)
        );
        // Failed checks left the context untouched: the genuine one passes.
        assert!(amf.unprotect(p.sqn, &p.mac, &p.payload, true).is_ok());
        // Replay.
        assert_eq!(amf.unprotect(p.sqn, &p.mac, &p.payload, true), Err(Error::Replay));
        // A UE message reflected back to the UE fails (DIRECTION differs).
        let q = ue.protect(&REGISTRATION_COMPLETE, true).unwrap();
        assert_eq!(ue.unprotect(q.sqn, &q.mac, &q.payload, true), Err(Error::MacFailure));
    }
}
