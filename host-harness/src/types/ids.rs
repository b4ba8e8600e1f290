//! Process ids, package ids and addresses: parsing, printing, equality.
//!
//! The rules are the Kinode 1.0 kernel's: a process id is exactly three
//! non-empty `:`-separated parts; a name passed to `spawn` must match
//! `^[a-z0-9-]+$` (the kernel's `check`), or the caller traps.

use std::fmt;
use std::hash::{Hash, Hasher};

use super::bindings::{Address, LazyLoadBlob, PackageId, ProcessId};

impl ProcessId {
    pub fn new(name: &str, package: &str, publisher: &str) -> Self {
        ProcessId {
            process_name: name.into(),
            package_name: package.into(),
            publisher_node: publisher.into(),
        }
    }

    /// Parses `name:package:publisher`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split(':').collect();
        match parts.as_slice() {
            [name, package, publisher] if parts.iter().all(|p| !p.is_empty()) => {
                Ok(ProcessId::new(name, package, publisher))
            }
            _ => Err(format!(
                "`{text}` is not a process id: expected `name:package:publisher`"
            )),
        }
    }

    pub fn package_id(&self) -> PackageId {
        PackageId {
            package_name: self.package_name.clone(),
            publisher_node: self.publisher_node.clone(),
        }
    }

    /// A runtime module's id, e.g. `vfs:distro:sys`.
    pub fn runtime(name: &str) -> Self {
        ProcessId::new(name, "distro", "sys")
    }
}

/// The kernel's rule for process names (and package names):
/// `^[a-z0-9-]+$`. `Err` holds the kernel's own wording.
pub fn check_process_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "Process name ({name}) can only contain a-z, 0-9, `-`"
        ))
    }
}

/// The kernel's rule for node names and publishers: `^[a-z0-9.-]+$`.
pub fn is_node_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

/// The kernel's `check_process_id_kimap_safe`: names without dots, a
/// publisher with them. `Err` holds the kernel's own wording.
pub fn check_kimap_safe(id: &ProcessId) -> Result<(), String> {
    check_process_name(&id.process_name)?;
    if check_process_name(&id.package_name).is_err() {
        return Err(format!(
            "Package name ({}) can only contain a-z, 0-9, `-`",
            id.package_name
        ));
    }
    if !is_node_name(&id.publisher_node) {
        return Err(format!(
            "Publisher node ({}) can only contain a-z, 0-9, `-`, `.`",
            id.publisher_node
        ));
    }
    Ok(())
}

impl PackageId {
    /// Parses `package:publisher` (two non-empty parts).
    pub fn parse(text: &str) -> Option<Self> {
        let (package, publisher) = text.split_once(':')?;
        if package.is_empty() || publisher.is_empty() || publisher.contains(':') {
            return None;
        }
        Some(PackageId {
            package_name: package.into(),
            publisher_node: publisher.into(),
        })
    }
}

impl Address {
    pub fn new(node: &str, process: ProcessId) -> Self {
        Address {
            node: node.into(),
            process,
        }
    }

    /// Parses `node@name:package:publisher`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (node, process) = text.split_once('@').ok_or_else(|| {
            format!("`{text}` is not an address: expected `node@name:package:publisher`")
        })?;
        if node.is_empty() {
            return Err(format!("`{text}` is not an address: the node is empty"));
        }
        Ok(Address::new(node, ProcessId::parse(process)?))
    }
}

impl fmt::Display for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.process_name, self.package_name, self.publisher_node
        )
    }
}

impl fmt::Display for PackageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.package_name, self.publisher_node)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.node, self.process)
    }
}

impl PartialEq for ProcessId {
    fn eq(&self, other: &Self) -> bool {
        self.process_name == other.process_name
            && self.package_name == other.package_name
            && self.publisher_node == other.publisher_node
    }
}
impl Eq for ProcessId {}
impl Hash for ProcessId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.process_name.hash(state);
        self.package_name.hash(state);
        self.publisher_node.hash(state);
    }
}

impl PartialEq for PackageId {
    fn eq(&self, other: &Self) -> bool {
        self.package_name == other.package_name && self.publisher_node == other.publisher_node
    }
}
impl Eq for PackageId {}
impl Hash for PackageId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.package_name.hash(state);
        self.publisher_node.hash(state);
    }
}

impl PartialEq for LazyLoadBlob {
    fn eq(&self, other: &Self) -> bool {
        self.mime == other.mime && self.bytes == other.bytes
    }
}
impl Eq for LazyLoadBlob {}

impl PartialEq for Address {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node && self.process == other.process
    }
}
impl Eq for Address {}
impl Hash for Address {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.node.hash(state);
        self.process.hash(state);
    }
}

/// Ids and addresses travel as their text (`name:package:publisher`,
/// `node@name:package:publisher`) in JSON and scenario files.
macro_rules! as_text {
    ($type:ty, $parse:expr) => {
        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                $parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

as_text!(ProcessId, ProcessId::parse);
as_text!(Address, Address::parse);
as_text!(PackageId, |text: &str| PackageId::parse(text).ok_or_else(
    || format!("`{text}` is not a package id: expected `package:publisher`")
));

/// `id == "name:package:publisher"`, for tests and checks written as text.
impl PartialEq<str> for ProcessId {
    fn eq(&self, other: &str) -> bool {
        ProcessId::parse(other).is_ok_and(|other| other == *self)
    }
}

impl PartialEq<&str> for ProcessId {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

/// `address == "node@name:package:publisher"`.
impl PartialEq<str> for Address {
    fn eq(&self, other: &str) -> bool {
        Address::parse(other).is_ok_and(|other| other == *self)
    }
}

impl PartialEq<&str> for Address {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_ids_have_exactly_three_non_empty_parts() {
        let id = ProcessId::parse("parent:spawn:template.os").unwrap();
        assert_eq!(id.to_string(), "parent:spawn:template.os");
        assert_eq!(id.package_id().to_string(), "spawn:template.os");
        for bad in ["parent", "a:b", "a:b:c:d", "a::c", ":b:c", ""] {
            assert!(ProcessId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses_parse_and_print() {
        let a = Address::parse("fake.os@vfs:distro:sys").unwrap();
        assert_eq!(a.node, "fake.os");
        assert_eq!(a.process, ProcessId::runtime("vfs"));
        assert_eq!(a.to_string(), "fake.os@vfs:distro:sys");
        assert!(Address::parse("vfs:distro:sys").is_err());
        assert!(Address::parse("@vfs:distro:sys").is_err());
    }

    #[test]
    fn process_names_follow_the_kernel_rule() {
        assert!(check_process_name("spawned-child-process").is_ok());
        assert!(check_process_name("12345").is_ok());
        let err = check_process_name("spawned_child_process").unwrap_err();
        assert_eq!(
            err,
            "Process name (spawned_child_process) can only contain a-z, 0-9, `-`"
        );
        for bad in ["", "Child", "a.b", "a:b", "a b"] {
            assert!(check_process_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_travel_as_text() {
        let id = ProcessId::parse("parent:spawn:template.os").unwrap();
        let json = serde_json::to_value(&id).unwrap();
        assert_eq!(json, serde_json::json!("parent:spawn:template.os"));
        assert_eq!(serde_json::from_value::<ProcessId>(json).unwrap(), id);
        let bad = serde_json::from_value::<ProcessId>(serde_json::json!("parent")).unwrap_err();
        assert!(
            bad.to_string()
                .contains("expected `name:package:publisher`"),
            "{bad}"
        );
        assert!(id == "parent:spawn:template.os" && id != "parent");
    }

    #[test]
    fn kimap_safe_ids_as_the_kernel_checks_them() {
        let check = |text: &str| check_kimap_safe(&ProcessId::parse(text).unwrap());
        assert!(check("parent:spawn:template.os").is_ok());
        assert_eq!(
            check("../x:a:b").unwrap_err(),
            "Process name (../x) can only contain a-z, 0-9, `-`"
        );
        assert_eq!(
            check("a:b.c:d").unwrap_err(),
            "Package name (b.c) can only contain a-z, 0-9, `-`"
        );
        assert_eq!(
            check("a:b:x/y").unwrap_err(),
            "Publisher node (x/y) can only contain a-z, 0-9, `-`, `.`"
        );
    }

    #[test]
    fn package_ids_have_two_parts() {
        assert_eq!(
            PackageId::parse("spawn:template.os").unwrap().to_string(),
            "spawn:template.os"
        );
        for bad in ["spawn", "spawn:", ":x", "a:b:c"] {
            assert!(PackageId::parse(bad).is_none(), "{bad}");
        }
    }
}
