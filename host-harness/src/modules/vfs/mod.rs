//! `vfs:distro:sys`: every 1.0 vfs action on real files under
//! `<home>/vfs`, with the node's request and response bodies, errors and
//! capability rules. `path.rs` parses paths, `caps.rs` decides who may,
//! `files.rs` touches the disk.
//!
//! Answers: a success goes to the rsvp, else to the source if it expected
//! a response, with the request's metadata; an error goes only to a
//! request that expected a response, without metadata.

mod caps;
mod files;
pub(crate) mod path;

use std::path::Path;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::json;

use crate::kernel::event::ModuleEvent;
use crate::kernel::message::{Answer, KernelMessage};
use crate::node::{Module, ModuleCtx};
use crate::types::{LazyLoadBlob, ProcessId};
use caps::{Checker, Need};
use files::{escaped, Disk};
pub(crate) use path::VfsPath;

/// Unpacks the zip `bytes` into vfs path `path` beneath `vfs_root`, as
/// an `AddZip` does (what the app store does with a package's
/// `pkg/api.zip`): at most `limit` bytes, no entry leading out.
pub(crate) fn add_zip(vfs_root: &Path, path: &str, bytes: &[u8], limit: u64) -> Result<(), String> {
    let disk = Disk::open(vfs_root).map_err(|e| format!("{}: {e}", vfs_root.display()))?;
    let path = VfsPath::parse(path).map_err(|e| format!("{path}: {e:?}"))?;
    disk.unzip(bytes, &path, limit)
        .map_err(|e| format!("{path}: {e:?}"))
}

#[derive(Debug, Deserialize)]
struct VfsRequest {
    path: String,
    action: VfsAction,
}

#[derive(Debug, Deserialize)]
enum VfsAction {
    CreateDrive,
    CreateDir,
    CreateDirAll,
    CreateFile,
    OpenFile { create: bool },
    CloseFile,
    Write,
    WriteAll,
    Append,
    SyncAll,
    Read,
    ReadDir,
    ReadToEnd,
    ReadExact { length: u64 },
    ReadToString,
    Seek(SeekFrom),
    RemoveFile,
    RemoveDir,
    RemoveDirAll,
    Rename { new_path: String },
    CopyFile { new_path: String },
    Metadata,
    AddZip,
    Len,
    SetLen(u64),
    Hash,
}

#[derive(Debug, Deserialize)]
enum SeekFrom {
    Start(u64),
    End(i64),
    Current(i64),
}

/// A vfs error, serialized as the node's `VfsResponse::Err(VfsError)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VfsError {
    NoWriteCap,
    NoReadCap,
    AddCapFailed,
    MalformedRequest,
    NoBlob,
    ParseError { error: String, path: String },
    IoError(String),
    UnzipError,
}

impl VfsError {
    fn body(&self) -> serde_json::Value {
        let error = match self {
            VfsError::NoWriteCap => json!("NoWriteCap"),
            VfsError::NoReadCap => json!("NoReadCap"),
            VfsError::AddCapFailed => json!("AddCapFailed"),
            VfsError::MalformedRequest => json!("MalformedRequest"),
            VfsError::NoBlob => json!("NoBlob"),
            VfsError::ParseError { error, path } => {
                json!({ "ParseError": { "error": error, "path": path } })
            }
            VfsError::IoError(text) => json!({ "IOError": text }),
            VfsError::UnzipError => json!("UnzipError"),
        };
        json!({ "Err": error })
    }
}

/// Reads of regular files up to this size are handled without a thread hop.
const QUICK_READ_BYTES: u64 = 1 << 20;

/// A successful answer: its body and the bytes it carries, if any.
type Done = (serde_json::Value, Option<Vec<u8>>);

fn ok() -> Done {
    (json!("Ok"), None)
}

/// The vfs of one node: its drives live under `<home>/vfs` (drive `/p:u/d`
/// is `<home>/vfs/p:u/d`), opened on the first request.
pub struct Vfs {
    disk: OnceLock<Result<Disk, String>>,
    /// `--host-memory-limit`: the most one read or unzip may take.
    limit: u64,
}

impl Vfs {
    pub fn new(limit: u64) -> Self {
        Vfs {
            disk: OnceLock::new(),
            limit,
        }
    }

    fn disk(&self, ctx: &ModuleCtx) -> Result<&Disk, VfsError> {
        self.disk
            .get_or_init(|| {
                let root = ctx.home().vfs();
                Disk::open(&root).map_err(|e| format!("{}: {e}", root.display()))
            })
            .as_ref()
            .map_err(|e| VfsError::IoError(e.clone()))
    }

    fn run(
        &self,
        ctx: &ModuleCtx,
        km: &KernelMessage,
        request: VfsRequest,
    ) -> Result<Done, VfsError> {
        let source = &km.source.process;
        let checker = Checker { ctx, source };
        let kernel = *source == ProcessId::runtime("kernel");
        let disk = self.disk(ctx)?;
        if request.path == "/" && matches!(request.action, VfsAction::ReadDir) {
            checker.check_root()?;
            return Ok(listing(disk.read_dir(None)?));
        }
        let path = VfsPath::parse(&request.path)?;
        let need = |need: Need| {
            if kernel {
                Ok(())
            } else {
                checker.check(&path, need)
            }
        };
        let blob = || {
            km.blob
                .as_ref()
                .map(|b| b.bytes.clone())
                .ok_or(VfsError::NoBlob)
        };
        let limit = self.limit;
        let moving = matches!(request.action, VfsAction::Rename { .. });
        match request.action {
            VfsAction::CreateDrive => {
                if !kernel {
                    checker.check_create_drive(&path)?;
                    checker.grant_drive(&path)?;
                }
                disk.create_drive(&path).map(|_| ok())
            }
            VfsAction::CreateDir => {
                need(Need::Write)?;
                disk.create_dir(&path, false).map(|_| ok())
            }
            VfsAction::CreateDirAll => {
                need(Need::Write)?;
                disk.create_dir(&path, true).map(|_| ok())
            }
            VfsAction::CreateFile => {
                need(Need::Write)?;
                disk.create_file(&path).map(|_| ok())
            }
            VfsAction::OpenFile { create } => {
                need(Need::Write)?;
                disk.open_file(&path, create).map(|_| ok())
            }
            VfsAction::CloseFile => {
                need(Need::Write)?;
                disk.close(&path);
                Ok(ok())
            }
            VfsAction::Write => {
                need(Need::Write)?;
                disk.write(&path, &blob()?).map(|_| ok())
            }
            VfsAction::WriteAll => {
                need(Need::Write)?;
                disk.write_all(&path, &blob()?).map(|_| ok())
            }
            VfsAction::Append => {
                need(Need::Write)?;
                disk.append(&path, &blob()?).map(|_| ok())
            }
            VfsAction::SyncAll => {
                need(Need::Write)?;
                disk.with(&path, |f| f.sync_all()).map(|_| ok())
            }
            VfsAction::Read => {
                need(Need::Read)?;
                Ok((json!("Read"), Some(disk.read(&path, limit)?)))
            }
            VfsAction::ReadToEnd => {
                need(Need::Read)?;
                Ok((json!("Read"), Some(disk.read_to_end(&path, limit)?)))
            }
            VfsAction::ReadExact { length } => {
                need(Need::Read)?;
                Ok((json!("Read"), Some(disk.read_exact(&path, length, limit)?)))
            }
            VfsAction::ReadDir => {
                need(Need::Read)?;
                Ok(listing(disk.read_dir(Some(&path))?))
            }
            VfsAction::ReadToString => {
                need(Need::Read)?;
                let text = disk.read_to_string(&path, limit)?;
                Ok((json!({ "ReadToString": text }), None))
            }
            VfsAction::Seek(from) => {
                need(Need::Read)?;
                let from = match from {
                    SeekFrom::Start(n) => std::io::SeekFrom::Start(n),
                    SeekFrom::End(n) => std::io::SeekFrom::End(n),
                    SeekFrom::Current(n) => std::io::SeekFrom::Current(n),
                };
                let offset = disk.with(&path, |f| std::io::Seek::seek(f, from))?;
                Ok((json!({ "SeekFrom": { "new_offset": offset } }), None))
            }
            VfsAction::RemoveFile => {
                need(Need::Write)?;
                disk.remove_file(&path).map(|_| ok())
            }
            VfsAction::RemoveDir => {
                need(Need::Write)?;
                disk.remove_dir(&path, false).map(|_| ok())
            }
            VfsAction::RemoveDirAll => {
                need(Need::Write)?;
                disk.remove_dir(&path, true).map(|_| ok())
            }
            VfsAction::Rename { new_path } | VfsAction::CopyFile { new_path } => {
                let new = VfsPath::parse(&new_path)?;
                if !kernel {
                    checker.check_two(&path, &new)?;
                }
                disk.move_or_copy(&path, &new, moving).map(|_| ok())
            }
            VfsAction::Metadata => {
                need(Need::Read)?;
                let (file_type, len) = disk.metadata(&path)?;
                let metadata = json!({ "file_type": file_type, "len": len });
                Ok((json!({ "Metadata": metadata }), None))
            }
            VfsAction::Len => {
                need(Need::Read)?;
                let len = disk.with(&path, |f| f.metadata().map(|m| m.len()))?;
                Ok((json!({ "Len": len }), None))
            }
            VfsAction::SetLen(len) => {
                need(Need::Write)?;
                disk.with(&path, |f| f.set_len(len)).map(|_| ok())
            }
            VfsAction::Hash => {
                need(Need::Read)?;
                let hash = disk.hash(&path)?;
                Ok((json!({ "Hash": hash }), None))
            }
            VfsAction::AddZip => {
                need(Need::Write)?;
                disk.unzip(&blob()?, &path, limit).map(|_| ok())
            }
        }
    }
}

/// A `ReadDir` answer: entries with paths relative to the vfs root.
fn listing(entries: Vec<(String, &'static str)>) -> Done {
    let entries: Vec<serde_json::Value> = entries
        .into_iter()
        .map(|(path, file_type)| json!({ "path": path, "file_type": file_type }))
        .collect();
    (json!({ "ReadDir": entries }), None)
}

impl Module for Vfs {
    /// A hash in progress stops; nothing else runs long enough to matter.
    fn stop(&self) {
        if let Some(Ok(disk)) = self.disk.get() {
            disk.stop();
        }
    }

    /// Only reads of a small regular file are quick for sure (a spawn's
    /// read of its wasm is one); the rest may block (a FIFO, a huge file, a
    /// slow disk).
    fn blocking(&self, ctx: &ModuleCtx, km: &KernelMessage) -> bool {
        let Some(request) = km.request() else {
            return false;
        };
        let Ok(request) = serde_json::from_slice::<VfsRequest>(&request.body) else {
            return false;
        };
        let reads = matches!(
            request.action,
            VfsAction::Read | VfsAction::ReadToString | VfsAction::Metadata | VfsAction::Len
        );
        let small_file = || {
            let path = VfsPath::parse(&request.path).ok()?;
            Some(self.disk(ctx).ok()?.is_small_file(&path, QUICK_READ_BYTES))
        };
        !(reads && small_file() == Some(true))
    }

    /// A node runs each request in a task of its own (kinode/src/vfs.rs,
    /// kv.rs and sqlite.rs at v1.0.0: a `tokio::spawn` per request).
    fn concurrent(&self) -> bool {
        true
    }

    fn handle(&self, ctx: &ModuleCtx, km: KernelMessage) {
        if super::from_another_node(ctx, &km) {
            return;
        }
        let Some(request) = km.request() else { return };
        let parsed = serde_json::from_slice::<VfsRequest>(&request.body);
        let path = parsed.as_ref().map(|r| r.path.clone()).unwrap_or_default();
        let root_listing = parsed
            .as_ref()
            .is_ok_and(|r| r.path == "/" && matches!(r.action, VfsAction::ReadDir));
        let result = parsed
            .map_err(|_| VfsError::MalformedRequest)
            .and_then(|r| self.run(ctx, &km, r));
        match result {
            Ok((body, bytes)) => {
                let answer = Answer {
                    metadata: request.metadata.clone(),
                    blob: bytes.map(|bytes| LazyLoadBlob {
                        mime: Some("application/octet-stream".into()),
                        bytes,
                    }),
                    ..Answer::new(body.to_string())
                };
                if root_listing {
                    // The node answers a root listing to its source, always.
                    ctx.respond_to_source(&km, answer);
                } else {
                    ctx.respond(&km, answer);
                }
            }
            Err(error) => {
                if matches!(error, VfsError::NoReadCap | VfsError::NoWriteCap) {
                    ctx.note(ModuleEvent::VfsRefused {
                        process: km.source.process.clone(),
                        path,
                        error: format!("{error:?}"),
                    });
                } else if escaped(&error) {
                    ctx.note(ModuleEvent::VfsEscape {
                        process: km.source.process.clone(),
                        path,
                    });
                }
                if km.expects_response() {
                    ctx.respond(&km, Answer::new(error.body().to_string()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::fake::{body, request, FakeNode};

    fn blob(km: &KernelMessage) -> Option<Vec<u8>> {
        km.blob.as_ref().map(|b| b.bytes.clone())
    }

    #[test]
    fn a_process_writes_its_own_drive_and_another_package_needs_a_capability() {
        let node = FakeNode::new();
        let ctx = node.module("vfs");
        let app = node.install("app:me.os", &["app"], &[]).remove(0);
        let other = node.install("other:me.os", &["other"], &[]).remove(0);
        let vfs = Vfs::new(u64::MAX);
        let act = |from: &ProcessId, path: &str, action: serde_json::Value, data: Option<&[u8]>| {
            let body = json!({ "path": path, "action": action });
            vfs.handle(&ctx, request(from, "vfs", body, data.map(<[u8]>::to_vec)));
        };
        act(&app, "/app:me.os/data", json!("CreateDrive"), None);
        act(
            &app,
            "/app:me.os/data/x.txt",
            json!("Write"),
            Some(b"hello"),
        );
        act(&app, "/app:me.os/data/x.txt", json!("Read"), None);
        let answers = node.delivered(&app);
        let bodies: Vec<_> = answers.iter().map(body).collect();
        assert_eq!(bodies, [json!("Ok"), json!("Ok"), json!("Read")]);
        assert_eq!(blob(&answers[2]).as_deref(), Some(&b"hello"[..]));
        let on_disk = ctx.home().vfs().join("app:me.os/data/x.txt");
        assert_eq!(std::fs::read(on_disk).unwrap(), b"hello");
        // The creator of a drive holds read and write on it.
        let read = caps::drive_cap("fake.os", "read", "/app:me.os/data");
        assert!(ctx.holds(&app, &read));

        // Another package may not read it, and the harness says so.
        node.events();
        act(&other, "/app:me.os/data/x.txt", json!("Read"), None);
        let refused = node.delivered(&other);
        assert_eq!(body(&refused[0]), json!({ "Err": "NoReadCap" }));
        assert!(node.events().iter().any(|e| matches!(
            e,
            crate::kernel::Event::Module(ModuleEvent::VfsRefused { path, .. })
                if path == "/app:me.os/data/x.txt"
        )));
        // With the read capability it may.
        node.kernel(|k| k.grant_capabilities(&other, vec![read]));
        act(&other, "/app:me.os/data/x.txt", json!("Read"), None);
        assert_eq!(
            blob(&node.delivered(&other)[0]).as_deref(),
            Some(&b"hello"[..])
        );
    }

    #[test]
    fn a_drive_name_that_rewrites_its_capability_is_let_through_and_reported() {
        let node = FakeNode::new();
        let ctx = node.module("vfs");
        let app = node.install("app:me.os", &["app"], &[]).remove(0);
        let victim = node.install("victim:me.os", &["victim"], &[]).remove(0);
        let vfs = Vfs::new(u64::MAX);
        let act = |from: &ProcessId, path: &str, action: &str, data: Option<&[u8]>| {
            let body = json!({ "path": path, "action": action });
            vfs.handle(&ctx, request(from, "vfs", body, data.map(<[u8]>::to_vec)));
        };
        let unsafe_names = |node: &FakeNode| -> Vec<Option<serde_json::Value>> {
            node.events()
                .into_iter()
                .filter_map(|e| match e {
                    crate::kernel::Event::Module(ModuleEvent::UnsafeDriveName {
                        parsed, ..
                    }) => Some(parsed),
                    _ => None,
                })
                .collect()
        };
        // A quote makes the params invalid JSON, which a node compares as
        // null: equal to any other drive's with a quote in its name.
        act(&victim, "/victim:me.os/x\"y", "CreateDrive", None);
        act(&victim, "/victim:me.os/x\"y/secret", "Write", Some(b"s"));
        node.events();
        act(&app, "/app:me.os/a\"b", "CreateDrive", None);
        assert_eq!(unsafe_names(&node), [None]);
        act(&app, "/victim:me.os/x\"y/secret", "Read", None);
        let read = node.delivered(&app).pop().unwrap();
        assert_eq!(blob(&read).as_deref(), Some(&b"s"[..]), "as on a node");
        // Valid JSON that says something else: the read grant is a write
        // grant on another drive.
        act(&app, "/app:me.os/x\",\"kind\":\"write", "CreateDrive", None);
        assert_eq!(
            unsafe_names(&node),
            [Some(json!({ "kind": "write", "drive": "/app:me.os/x" }))]
        );
        // An ordinary name is no news.
        act(&app, "/app:me.os/data", "CreateDrive", None);
        assert!(unsafe_names(&node).is_empty());
    }

    #[test]
    fn errors_serialize_as_the_node_does() {
        assert_eq!(
            VfsError::NoReadCap.body().to_string(),
            r#"{"Err":"NoReadCap"}"#
        );
        assert_eq!(
            VfsError::IoError("x".into()).body().to_string(),
            r#"{"Err":{"IOError":"x"}}"#
        );
        let parse = VfsError::ParseError {
            error: "e".into(),
            path: "p".into(),
        };
        assert_eq!(
            parse.body().to_string(),
            r#"{"Err":{"ParseError":{"error":"e","path":"p"}}}"#
        );
    }

    #[test]
    fn actions_parse_in_the_node_shapes() {
        for body in [
            r#"{"path":"/a:b/d","action":"CreateDrive"}"#,
            r#"{"path":"/a:b/d","action":{"CreateDrive":null}}"#,
            r#"{"path":"/a:b/d/f","action":{"OpenFile":{"create":true}}}"#,
            r#"{"path":"/a:b/d/f","action":{"Seek":{"End":-2}}}"#,
            r#"{"path":"/a:b/d/f","action":{"SetLen":10}}"#,
            r#"{"path":"/a:b/d/f","action":{"Rename":{"new_path":"/a:b/d/g"}}}"#,
        ] {
            assert!(serde_json::from_str::<VfsRequest>(body).is_ok(), "{body}");
        }
        assert!(
            serde_json::from_str::<VfsRequest>(r#"{"path":"/a:b/d","action":"OpenFile"}"#).is_err()
        );
    }
}
