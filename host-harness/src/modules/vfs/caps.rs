//! Who may do what in the vfs. A process reads and writes every drive of
//! its own package freely; other drives need the vfs's `read` or `write`
//! capability for that drive, or the root capability. `CreateDrive` of
//! another package's drive needs root. The kernel is exempt. `Rename` and
//! `CopyFile` across packages need write on both drives.

use serde_json::json;

use crate::kernel::event::ModuleEvent;
use crate::node::ModuleCtx;
use crate::types::{Address, Capability, ProcessId};

use super::path::VfsPath;
use super::VfsError;

/// The drive capability's params, as the node's vfs writes them.
pub fn drive_params(kind: &str, drive: &str) -> String {
    format!("{{\"kind\": \"{kind}\", \"drive\": \"{drive}\"}}")
}

pub fn drive_cap(node: &str, kind: &str, drive: &str) -> Capability {
    Capability::new(vfs_address(node), drive_params(kind, drive))
}

pub fn root_cap(node: &str) -> Capability {
    Capability::new(vfs_address(node), json!({ "root": true }).to_string())
}

fn vfs_address(node: &str) -> Address {
    Address::new(node, ProcessId::runtime("vfs"))
}

/// What an action needs on its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Read,
    Write,
}

pub struct Checker<'a> {
    pub ctx: &'a ModuleCtx,
    pub source: &'a ProcessId,
}

impl Checker<'_> {
    fn holds(&self, cap: &Capability) -> bool {
        self.ctx.holds(self.source, cap)
    }

    fn has_root(&self) -> bool {
        self.holds(&root_cap(self.ctx.node()))
    }

    fn own(&self, path: &VfsPath) -> bool {
        self.source.package_id() == path.package
    }

    fn has(&self, path: &VfsPath, need: Need) -> bool {
        let kind = match need {
            Need::Read => "read",
            Need::Write => "write",
        };
        self.holds(&drive_cap(self.ctx.node(), kind, &path.drive)) || self.has_root()
    }

    fn refusal(need: Need) -> VfsError {
        match need {
            Need::Read => VfsError::NoReadCap,
            Need::Write => VfsError::NoWriteCap,
        }
    }

    /// One path, read or write.
    pub fn check(&self, path: &VfsPath, need: Need) -> Result<(), VfsError> {
        if self.own(path) || self.has(path, need) {
            Ok(())
        } else {
            Err(Checker::refusal(need))
        }
    }

    /// `Rename` and `CopyFile`: within one's own package, free; otherwise
    /// write on the old drive (even one's own) and on a different new one.
    pub fn check_two(&self, old: &VfsPath, new: &VfsPath) -> Result<(), VfsError> {
        if self.own(old) && self.own(new) {
            return Ok(());
        }
        if !self.has(old, Need::Write) {
            return Err(VfsError::NoWriteCap);
        }
        if new.drive != old.drive && !self.has(new, Need::Write) {
            return Err(VfsError::NoWriteCap);
        }
        Ok(())
    }

    /// `CreateDrive`: one's own package, or root.
    pub fn check_create_drive(&self, path: &VfsPath) -> Result<(), VfsError> {
        if self.own(path) || self.has_root() {
            Ok(())
        } else {
            Err(VfsError::NoWriteCap)
        }
    }

    /// `ReadDir` of `/`: root only, the kernel included.
    pub fn check_root(&self) -> Result<(), VfsError> {
        if self.has_root() {
            Ok(())
        } else {
            Err(VfsError::NoReadCap)
        }
    }

    /// The creator of a drive gets read and write on it, through the
    /// kernel's capability oracle. Params a drive's name turns into
    /// something else than that drive's JSON are granted as they are, as
    /// on a node, and reported.
    pub fn grant_drive(&self, path: &VfsPath) -> Result<(), VfsError> {
        for kind in ["read", "write"] {
            let params = drive_params(kind, &path.drive);
            let parsed = serde_json::from_str::<serde_json::Value>(&params).ok();
            let expected = json!({ "kind": kind, "drive": path.drive });
            if parsed.as_ref() != Some(&expected) {
                self.ctx.note(ModuleEvent::UnsafeDriveName {
                    process: self.source.clone(),
                    drive: path.drive.clone(),
                    params,
                    parsed,
                });
                break;
            }
        }
        let caps = ["read", "write"].map(|kind| drive_cap(self.ctx.node(), kind, &path.drive));
        if self.ctx.add_capabilities(self.source, caps.to_vec()) {
            Ok(())
        } else {
            Err(VfsError::AddCapFailed)
        }
    }
}
