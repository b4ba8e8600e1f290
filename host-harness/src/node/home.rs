//! The node's home on disk, laid out as a node lays it out: `vfs/` holds
//! each package's drives (`vfs/<package:publisher>/pkg/...`, `tmp/`, and
//! whatever drives processes create), `kv/` and `sqlite/` the databases,
//! and `state/` what processes persisted with `set-state`. A home given
//! with `--home` outlives the run, so the next run finds what this one
//! left; otherwise it is a temporary directory removed at the end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use crate::bindings::{PackageId, ProcessId};
use crate::error::InputError;

pub struct Home {
    root: PathBuf,
    /// Removed when the run ends.
    temporary: bool,
    /// Every file and its size and modification time after install.
    before: Snapshot,
}

type Snapshot = BTreeMap<PathBuf, (u64, Option<SystemTime>)>;

/// A file the run created, changed or removed under the home.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HomeChange {
    /// Relative to the home, e.g. `vfs/echo:template.os/log/echo.log`.
    pub path: String,
    pub change: ChangeKind,
    /// Its size at the end (0 when removed).
    pub bytes: u64,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Created,
    Changed,
    Removed,
}

impl Home {
    /// Opens `dir` (made if missing), or a fresh temporary home.
    pub fn open(dir: Option<&Path>) -> Result<Home, InputError> {
        let (root, temporary) = match dir {
            Some(dir) => (dir.to_owned(), false),
            None => (temporary_root(), true),
        };
        for sub in ["vfs", "state"] {
            let path = root.join(sub);
            std::fs::create_dir_all(&path).map_err(|e| {
                InputError::invalid(&path, format!("cannot create the node home: {e}"))
            })?;
        }
        Ok(Home {
            root,
            temporary,
            before: Snapshot::new(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The vfs root: `<home>/vfs`.
    pub fn vfs(&self) -> PathBuf {
        self.root.join("vfs")
    }

    /// A package's drive on disk.
    pub fn drive(&self, package: &PackageId, drive: &str) -> PathBuf {
        self.vfs().join(package.to_string()).join(drive)
    }

    /// Installs a package's `pkg/` directory as its `pkg` drive, as the
    /// app store does (replacing what an earlier install left), and its
    /// `tmp` drive. Then notes what the home holds, to report changes.
    pub fn install(&mut self, package: &PackageId, pkg_dir: &Path) -> Result<(), InputError> {
        let drive = self.drive(package, "pkg");
        let _ = std::fs::remove_dir_all(&drive);
        copy_dir(pkg_dir, &drive)?;
        let tmp = self.drive(package, "tmp");
        std::fs::create_dir_all(&tmp)
            .map_err(|e| InputError::invalid(&tmp, format!("cannot create: {e}")))?;
        self.before = snapshot(&self.root);
        Ok(())
    }

    /// What earlier runs persisted with `set-state`.
    pub fn states(&self) -> Vec<(ProcessId, Vec<u8>)> {
        let Ok(entries) = std::fs::read_dir(self.root.join("state")) else {
            return vec![];
        };
        entries
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                let id = ProcessId::parse(path.file_name()?.to_str()?).ok()?;
                Some((id, std::fs::read(&path).ok()?))
            })
            .collect()
    }

    /// Writes (or, with `None`, deletes) a process's persisted state.
    pub fn persist_state(&self, id: &ProcessId, bytes: Option<&[u8]>) -> std::io::Result<()> {
        let path = self.root.join("state").join(id.to_string());
        match bytes {
            Some(bytes) => std::fs::write(path, bytes),
            None => match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        }
    }

    /// What the run created, changed or removed, by path.
    pub fn changes(&self) -> Vec<HomeChange> {
        let after = snapshot(&self.root);
        let relative = |path: &Path| {
            path.strip_prefix(&self.root)
                .unwrap_or(path)
                .display()
                .to_string()
        };
        let mut changes = Vec::new();
        for (path, (bytes, modified)) in &after {
            let change = match self.before.get(path) {
                None => ChangeKind::Created,
                Some(old) if old != &(*bytes, *modified) => ChangeKind::Changed,
                Some(_) => continue,
            };
            changes.push(HomeChange {
                path: relative(path),
                change,
                bytes: *bytes,
            });
        }
        for path in self.before.keys().filter(|p| !after.contains_key(*p)) {
            changes.push(HomeChange {
                path: relative(path),
                change: ChangeKind::Removed,
                bytes: 0,
            });
        }
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        changes
    }

    /// Ends the run: a temporary home goes.
    pub fn close(&self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

/// Copies a directory tree.
pub(crate) fn copy_dir(from: &Path, to: &Path) -> Result<(), InputError> {
    std::fs::create_dir_all(to)
        .map_err(|e| InputError::invalid(to, format!("cannot create: {e}")))?;
    let entries = std::fs::read_dir(from).map_err(|source| InputError::Read {
        path: from.to_owned(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| InputError::Read {
            path: from.to_owned(),
            source,
        })?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        if source.is_dir() {
            copy_dir(&source, &target)?;
        } else {
            std::fs::copy(&source, &target).map_err(|e| {
                InputError::invalid(&source, format!("cannot copy into the node home: {e}"))
            })?;
        }
    }
    Ok(())
}

fn snapshot(root: &Path) -> Snapshot {
    let mut files = Snapshot::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.metadata() {
                Ok(meta) if meta.is_dir() => pending.push(path),
                Ok(meta) => {
                    files.insert(path, (meta.len(), meta.modified().ok()));
                }
                Err(_) => {}
            }
        }
    }
    files
}

fn temporary_root() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "host-harness-home-{}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::SeqCst)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_persists_and_changes_are_listed() {
        let dir = temporary_root();
        let package = PackageId::parse("p:x.os").unwrap();
        let pkg = dir.join("source");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("a.wasm"), b"wasm").unwrap();
        let mut home = Home::open(Some(&dir.join("home"))).unwrap();
        home.install(&package, &pkg).unwrap();
        assert!(
            home.changes().is_empty(),
            "the install itself is not a change"
        );
        let id = ProcessId::new("a", "p", "x.os");
        home.persist_state(&id, Some(b"s")).unwrap();
        std::fs::write(home.drive(&package, "pkg").join("a.wasm"), b"changed").unwrap();
        let changes: Vec<(String, ChangeKind)> = home
            .changes()
            .into_iter()
            .map(|c| (c.path, c.change))
            .collect();
        assert_eq!(
            changes,
            [
                ("state/a:p:x.os".to_string(), ChangeKind::Created),
                ("vfs/p:x.os/pkg/a.wasm".to_string(), ChangeKind::Changed),
            ]
        );
        // A second run of the same home finds the state.
        let again = Home::open(Some(&dir.join("home"))).unwrap();
        assert_eq!(again.states(), [(id.clone(), b"s".to_vec())]);
        again.persist_state(&id, None).unwrap();
        assert!(again.states().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
