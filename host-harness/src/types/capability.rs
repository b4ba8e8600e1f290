//! Capabilities and the set a process holds.
//!
//! The kernel compares capabilities by issuer and by params *as JSON*:
//! `{"a":1,"b":2}` equals `{ "b": 2, "a": 1 }`, and, a quirk kept here,
//! params that are not valid JSON count as `null`: equal to each other and
//! to `null`.

use std::fmt;
use std::hash::{Hash, Hasher};

use crate::types::{Address, Capability};

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

/// How a capability reached its holder, which decides whether it dies with
/// its issuer. The kernel's capabilities oracle keeps a reverse index
/// (issuer to holders) only for capabilities added with its `Add` command
/// (grants, what the app store grants a package's processes from their
/// manifest, `save-capabilities`, the parent/child messaging links); those
/// a process was created with (`InitializeProcess`'s initial capabilities,
/// a spawn's request capabilities) are not indexed and outlive the issuer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    /// Created with the process: survives the issuer's death.
    AtCreation,
    /// Added through the oracle: revoked when the issuer is killed.
    Added,
}

/// The capabilities one process holds, in the order it got them.
#[derive(Clone, Debug, Default)]
pub struct CapSet(Vec<(Capability, Grant)>);

impl CapSet {
    pub fn contains(&self, cap: &Capability) -> bool {
        self.0.iter().any(|(held, _)| held == cap)
    }

    /// Adds `cap` unless an equal one is held; true if it was added. An
    /// `Added` capability already held is indexed from now on.
    pub fn insert(&mut self, cap: Capability, how: Grant) -> bool {
        if let Some((_, held)) = self.0.iter_mut().find(|(held, _)| *held == cap) {
            if how == Grant::Added {
                *held = Grant::Added;
            }
            return false;
        }
        self.0.push((cap, how));
        true
    }

    pub fn remove(&mut self, cap: &Capability) -> bool {
        let before = self.0.len();
        self.0.retain(|(held, _)| held != cap);
        self.0.len() != before
    }

    /// Drops every indexed capability `issuer` issued; returns how many.
    pub fn revoke_issued_by(&mut self, issuer: &Address) -> usize {
        let before = self.0.len();
        self.0
            .retain(|(held, how)| !(&held.issuer == issuer && *how == Grant::Added));
        before - self.0.len()
    }

    pub fn to_vec(&self) -> Vec<Capability> {
        self.iter().cloned().collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Capability> {
        self.0.iter().map(|(cap, _)| cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ProcessId;

    fn vfs() -> Address {
        Address::new("fake.os", ProcessId::runtime("vfs"))
    }

    #[test]
    fn params_compare_as_json() {
        let a = Capability::new(vfs(), r#"{"kind":"read","drive":"/a:b/pkg"}"#);
        let b = Capability::new(vfs(), r#"{ "drive": "/a:b/pkg", "kind": "read" }"#);
        assert_eq!(a, b);
        let mut set = CapSet::default();
        assert!(set.insert(a, Grant::Added));
        assert!(
            !set.insert(b, Grant::Added),
            "an equal capability is not added twice"
        );
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
    fn revoking_drops_only_that_issuers_indexed_caps() {
        let timer = Address::new("fake.os", ProcessId::runtime("timer"));
        let created = Capability::new(vfs(), "{\"kind\":\"read\"}");
        let mut set = CapSet::default();
        set.insert(Capability::messaging(vfs()), Grant::Added);
        set.insert(Capability::new(vfs(), "{\"root\":true}"), Grant::Added);
        set.insert(Capability::messaging(timer.clone()), Grant::Added);
        set.insert(created.clone(), Grant::AtCreation);
        assert_eq!(set.revoke_issued_by(&vfs()), 2);
        assert_eq!(
            set.to_vec(),
            vec![Capability::messaging(timer), created.clone()]
        );
        // Added again through the oracle, it is indexed and goes too.
        set.insert(created, Grant::Added);
        assert_eq!(set.revoke_issued_by(&vfs()), 1);
    }
}
