//! Capabilities and the set a process holds.
//!
//! The kernel compares capabilities by issuer and by params *as JSON*:
//! `{"a":1,"b":2}` equals `{ "b": 2, "a": 1 }`, and, a quirk kept here,
//! params that are not valid JSON count as `null`: equal to each other and
//! to `null`.

use std::fmt;
use std::hash::{Hash, Hasher};

use crate::bindings::{Address, Capability};

/// Params of the capability to send messages to the issuer.
pub const MESSAGING: &str = "\"messaging\"";

/// Params as the kernel compares them: canonical JSON text. serde_json's
/// `Value` keeps object keys sorted, so printing it back gives one text per
/// JSON value; invalid JSON becomes `null`, as in the kernel.
fn normalize(params: &str) -> String {
    serde_json::from_str::<serde_json::Value>(params)
        .unwrap_or_default()
        .to_string()
}

impl Capability {
    pub fn new(issuer: Address, params: impl Into<String>) -> Self {
        Capability {
            issuer,
            params: params.into(),
        }
    }

    pub fn messaging(issuer: Address) -> Self {
        Capability::new(issuer, MESSAGING)
    }

    pub fn is_messaging(&self) -> bool {
        normalize(&self.params) == normalize(MESSAGING)
    }
}

impl PartialEq for Capability {
    fn eq(&self, other: &Self) -> bool {
        self.issuer == other.issuer && normalize(&self.params) == normalize(&other.params)
    }
}
impl Eq for Capability {}
impl Hash for Capability {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.issuer.hash(state);
        normalize(&self.params).hash(state);
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.issuer, self.params)
    }
}

/// The capabilities one process holds, in the order it got them.
#[derive(Clone, Debug, Default)]
pub struct CapSet(Vec<Capability>);

impl CapSet {
    pub fn contains(&self, cap: &Capability) -> bool {
        self.0.contains(cap)
    }

    /// Adds `cap` unless an equal one is held; true if it was added.
    pub fn insert(&mut self, cap: Capability) -> bool {
        if self.contains(&cap) {
            return false;
        }
        self.0.push(cap);
        true
    }

    pub fn remove(&mut self, cap: &Capability) -> bool {
        let before = self.0.len();
        self.0.retain(|held| held != cap);
        self.0.len() != before
    }

    /// Drops every capability `issuer` issued; returns how many.
    pub fn revoke_issued_by(&mut self, issuer: &Address) -> usize {
        let before = self.0.len();
        self.0.retain(|held| &held.issuer != issuer);
        before - self.0.len()
    }

    pub fn to_vec(&self) -> Vec<Capability> {
        self.0.clone()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Capability> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ProcessId;

    fn vfs() -> Address {
        Address::new("fake.os", ProcessId::runtime("vfs"))
    }

    #[test]
    fn params_compare_as_json() {
        let a = Capability::new(vfs(), r#"{"kind":"read","drive":"/a:b/pkg"}"#);
        let b = Capability::new(vfs(), r#"{ "drive": "/a:b/pkg", "kind": "read" }"#);
        assert_eq!(a, b);
        let mut set = CapSet::default();
        assert!(set.insert(a));
        assert!(!set.insert(b), "an equal capability is not added twice");
        assert!(Capability::new(vfs(), " \"messaging\" ").is_messaging());
    }

    #[test]
    fn invalid_json_params_count_as_null() {
        // The kernel's quirk, kept on purpose.
        assert_eq!(
            Capability::new(vfs(), "not json"),
            Capability::new(vfs(), "{also not")
        );
        assert_eq!(
            Capability::new(vfs(), "not json"),
            Capability::new(vfs(), "null")
        );
        assert_ne!(
            Capability::new(vfs(), "not json"),
            Capability::messaging(vfs())
        );
    }

    #[test]
    fn issuers_must_match() {
        let other = Address::new("other.os", ProcessId::runtime("vfs"));
        assert_ne!(Capability::messaging(vfs()), Capability::messaging(other));
    }

    #[test]
    fn revoking_drops_only_that_issuers_caps() {
        let timer = Address::new("fake.os", ProcessId::runtime("timer"));
        let mut set = CapSet::default();
        set.insert(Capability::messaging(vfs()));
        set.insert(Capability::new(vfs(), "{\"root\":true}"));
        set.insert(Capability::messaging(timer.clone()));
        assert_eq!(set.revoke_issued_by(&vfs()), 2);
        assert_eq!(set.to_vec(), vec![Capability::messaging(timer)]);
    }
}
