//! The node's home on disk, laid out as a node lays it out: `vfs/` holds
//! each package's drives (`vfs/<package:publisher>/pkg/...`, `tmp/`, and
//! whatever drives processes create), `kv/` and `sqlite/` the databases,
//! and `state/` what processes persisted with `set-state`. A home given
//! with `--home` outlives the run, so the next run finds what this one
//! left; otherwise it is a temporary directory removed at the end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::report::{ChangeKind, HomeChange};
use crate::types::{check_kimap_safe, InputError, PackageId, ProcessId};
use crate::util::{copy_tree, lock, TempDir};

pub(crate) struct Home {
    root: PathBuf,
    /// A temporary home, removed when the run ends.
    temporary: std::sync::Mutex<Option<TempDir>>,
    /// Every file and its size and modification time after install.
    before: Snapshot,
}

type Snapshot = BTreeMap<PathBuf, (u64, Option<SystemTime>)>;

impl Home {
    /// Opens `dir` (made if missing), or a fresh temporary home.
    pub fn open(dir: Option<&Path>) -> Result<Home, InputError> {
        let (root, temporary) = match dir {
            Some(dir) => (dir.to_owned(), None),
            None => {
                let temp = TempDir::new("home").map_err(|e| {
                    InputError::invalid(
                        crate::util::temp_root(),
                        format!("cannot make a temporary node home: {e}"),
                    )
                })?;
                (temp.path().to_owned(), Some(temp))
            }
        };
        for sub in ["vfs", "state"] {
            let path = root.join(sub);
            std::fs::create_dir_all(&path).map_err(|e| {
                InputError::invalid(&path, format!("cannot create the node home: {e}"))
            })?;
        }
        Ok(Home {
            root,
            temporary: std::sync::Mutex::new(temporary),
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

    /// kv's databases: `<home>/kv`.
    pub fn kv(&self) -> PathBuf {
        self.root.join("kv")
    }

    /// sqlite's databases: `<home>/sqlite`.
    pub fn sqlite(&self) -> PathBuf {
        self.root.join("sqlite")
    }

    /// Where `id`'s persisted state lives: `<home>/state/<id>`.
    pub fn state_file(&self, id: &ProcessId) -> PathBuf {
        self.root.join("state").join(id.to_string())
    }

    /// A package's drive on disk.
    pub fn drive(&self, package: &PackageId, drive: &str) -> PathBuf {
        self.vfs().join(package.to_string()).join(drive)
    }

    /// Installs a package's `pkg/` directory as its `pkg` drive, as the
    /// app store does (replacing what an earlier install left, and keeping
    /// the package's zip, `archive`, in it as `<package>.zip`), and its
    /// `tmp` drive. Then notes what the home holds, to report changes.
    pub fn install(
        &mut self,
        package: &PackageId,
        pkg_dir: &Path,
        archive: &[u8],
    ) -> Result<(), InputError> {
        let drive = self.drive(package, "pkg");
        let _ = std::fs::remove_dir_all(&drive);
        copy_tree(pkg_dir, &drive)?;
        let zip = drive.join(format!("{package}.zip"));
        std::fs::write(&zip, archive)
            .map_err(|e| InputError::invalid(&zip, format!("cannot write: {e}")))?;
        let tmp = self.drive(package, "tmp");
        std::fs::create_dir_all(&tmp)
            .map_err(|e| InputError::invalid(&tmp, format!("cannot create: {e}")))?;
        self.before = snapshot(&self.root);
        Ok(())
    }

    /// Notes what the home holds now, as installed (what changes after
    /// this is what the run did).
    pub fn installed(&mut self) {
        self.before = snapshot(&self.root);
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
                check_kimap_safe(&id).ok()?;
                Some((id, std::fs::read(&path).ok()?))
            })
            .collect()
    }

    /// Writes (or, with `None`, deletes) a process's persisted state. An
    /// id a node would not hold (`../` in it) never becomes a path.
    pub fn persist_state(&self, id: &ProcessId, bytes: Option<&[u8]>) -> std::io::Result<()> {
        check_kimap_safe(id).map_err(std::io::Error::other)?;
        let path = self.state_file(id);
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
        lock(&self.temporary).take();
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temporary_home_goes_when_the_run_fails_or_ends() {
        // A failed install drops the home without closing it.
        let failed = Home::open(None).unwrap();
        let root = failed.root().to_owned();
        let name = root.file_name().unwrap().to_string_lossy().into_owned();
        assert!(root.is_dir() && name.starts_with("host-harness-home-"));
        assert!(
            name.len() > "host-harness-home-".len() + 4,
            "unguessable: {name}"
        );
        drop(failed);
        assert!(!root.exists());
        let ended = Home::open(None).unwrap();
        let root = ended.root().to_owned();
        ended.close();
        assert!(!root.exists());
    }

    #[test]
    fn state_persists_and_changes_are_listed() {
        let scratch = TempDir::new("home-test").unwrap();
        let dir = scratch.path();
        let package = PackageId::parse("p:x.os").unwrap();
        let pkg = dir.join("source");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("a.wasm"), b"wasm").unwrap();
        let mut home = Home::open(Some(&dir.join("home"))).unwrap();
        home.install(&package, &pkg, b"zip").unwrap();
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
    }
}
