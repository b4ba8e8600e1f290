//! What a node's randomness and identity are made from: one seed per run,
//! one per node derived from it by name, and from a node's seed its
//! Ed25519 networking key (a node's key signs the capabilities it sends to
//! other nodes and answers `net`'s `Sign`). The same seed and name always
//! give the same node, so a restarted node keeps its key.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use rand::{RngCore, SeedableRng};

use crate::types::Capability;

/// 32 bytes for `purpose`, from `seed`.
pub fn seeded(seed: u64, purpose: &str) -> [u8; 32] {
    let mut bytes = [0; 32];
    rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ fnv(purpose)).fill_bytes(&mut bytes);
    bytes
}

/// The seed of node `name` in a run seeded with `run_seed`.
pub fn node_seed(run_seed: u64, name: &str) -> u64 {
    run_seed ^ fnv(name).rotate_left(17)
}

/// The networking key of the node whose seed is `seed`.
pub fn networking_key(seed: u64) -> SigningKey {
    SigningKey::from_bytes(&seeded(seed, "networking key"))
}

/// A key as a node's identity shows it: `0x` and lowercase hex.
pub fn key_hex(key: &VerifyingKey) -> String {
    let hex: String = key.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("0x{hex}")
}

/// The bytes a node signs for a capability: its issuer and params, in
/// MessagePack as the node serializes the pair.
fn capability_bytes(cap: &Capability) -> Vec<u8> {
    rmp_serde::to_vec(&(cap.issuer.to_string(), &cap.params)).unwrap_or_default()
}

/// `key`'s signature of `cap`, as a node attaches it to a capability it
/// sends to another node.
pub fn sign_capability(key: &SigningKey, cap: &Capability) -> [u8; 64] {
    key.sign(&capability_bytes(cap)).to_bytes()
}

/// Whether `signature` is `key`'s signature of `cap`.
pub fn verify_capability(key: &VerifyingKey, cap: &Capability, signature: &[u8; 64]) -> bool {
    key.verify(&capability_bytes(cap), &Signature::from_bytes(signature))
        .is_ok()
}

/// FNV-1a: a fixed hash of a name, the same on every machine.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Address, ProcessId};

    #[test]
    fn a_capability_verifies_only_under_the_key_that_signed_it() {
        let (a, b) = (
            networking_key(node_seed(1, "a.os")),
            networking_key(node_seed(1, "b.os")),
        );
        let cap = Capability::messaging(Address::new("b.os", ProcessId::runtime("vfs")));
        let signature = sign_capability(&a, &cap);
        assert!(verify_capability(&a.verifying_key(), &cap, &signature));
        assert!(!verify_capability(&b.verifying_key(), &cap, &signature));
        let other = Capability::messaging(Address::new("b.os", ProcessId::runtime("kv")));
        assert!(!verify_capability(&a.verifying_key(), &other, &signature));
    }

    #[test]
    fn one_seed_and_name_give_one_node() {
        assert_eq!(node_seed(9, "a.os"), node_seed(9, "a.os"));
        assert_ne!(node_seed(9, "a.os"), node_seed(9, "b.os"));
        assert_ne!(node_seed(9, "a.os"), node_seed(10, "a.os"));
        let key = networking_key(3).verifying_key();
        assert_eq!(key, networking_key(3).verifying_key());
        assert!(key_hex(&key).starts_with("0x") && key_hex(&key).len() == 66);
    }
}
