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
mod path;

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;

use crate::bindings::{LazyLoadBlob, ProcessId};
use crate::kernel::event::{Event, ModuleEvent};
use crate::kernel::message::KernelMessage;
use crate::node::Port;

use super::{respond, respond_to_source, Answer, Module};
use caps::{Checker, Need};
use files::OpenFiles;
use path::VfsPath;

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

/// A successful answer: its body and the bytes it carries, if any.
type Done = (serde_json::Value, Option<Vec<u8>>);

fn ok() -> Done {
    (json!("Ok"), None)
}

fn io(e: std::io::Error) -> VfsError {
    VfsError::IoError(e.to_string())
}

pub struct Vfs {
    /// `<home>/vfs`: drive `/p:u/d` is `<root>/p:u/d`.
    root: PathBuf,
    files: OpenFiles,
}

impl Vfs {
    pub fn new(root: PathBuf) -> Self {
        Vfs {
            root,
            files: OpenFiles::default(),
        }
    }

    fn run(
        &self,
        port: &Arc<dyn Port>,
        km: &KernelMessage,
        request: VfsRequest,
    ) -> Result<Done, VfsError> {
        let source = &km.source.process;
        let checker = Checker { port, source };
        let kernel = *source == ProcessId::runtime("kernel");
        if request.path == "/" && matches!(request.action, VfsAction::ReadDir) {
            checker.check_root()?;
            return self.read_dir(&self.root);
        }
        let path = VfsPath::parse(&request.path)?;
        let need = |need: Need| {
            if kernel {
                Ok(())
            } else {
                checker.check(&path, need)
            }
        };
        let disk = path.on_disk(&self.root);
        let blob = || {
            km.blob
                .as_ref()
                .map(|b| b.bytes.clone())
                .ok_or(VfsError::NoBlob)
        };
        match request.action {
            VfsAction::CreateDrive => {
                if !kernel {
                    checker.check_create_drive(&path)?;
                    checker.grant_drive(&path)?;
                }
                std::fs::create_dir_all(path.drive_dir(&self.root)).map_err(io)?;
                Ok(ok())
            }
            VfsAction::CreateDir => {
                need(Need::Write)?;
                std::fs::create_dir(&disk).map_err(io).map(|_| ok())
            }
            VfsAction::CreateDirAll => {
                need(Need::Write)?;
                std::fs::create_dir_all(&disk).map_err(io).map(|_| ok())
            }
            VfsAction::CreateFile => {
                need(Need::Write)?;
                self.files.create(&disk).map(|_| ok())
            }
            VfsAction::OpenFile { create } => {
                need(Need::Write)?;
                self.files.open(&disk, create).map(|_| ok())
            }
            VfsAction::CloseFile => {
                need(Need::Write)?;
                self.files.close(&disk);
                Ok(ok())
            }
            VfsAction::Write => {
                need(Need::Write)?;
                let bytes = blob()?;
                std::fs::write(&disk, bytes).map_err(io).map(|_| ok())
            }
            VfsAction::WriteAll => {
                need(Need::Write)?;
                let bytes = blob()?;
                self.files.write_all(&disk, &bytes).map(|_| ok())
            }
            VfsAction::Append => {
                need(Need::Write)?;
                let bytes = blob()?;
                self.files.append(&disk, &bytes).map(|_| ok())
            }
            VfsAction::SyncAll => {
                need(Need::Write)?;
                self.files.with(&disk, |f| f.sync_all()).map(|_| ok())
            }
            VfsAction::Read => {
                need(Need::Read)?;
                let bytes = std::fs::read(&disk).map_err(io)?;
                Ok((json!("Read"), Some(bytes)))
            }
            VfsAction::ReadToEnd => {
                need(Need::Read)?;
                let bytes = self.files.read_to_end(&disk)?;
                Ok((json!("Read"), Some(bytes)))
            }
            VfsAction::ReadExact { length } => {
                need(Need::Read)?;
                let bytes = self.files.read_exact(&disk, length)?;
                Ok((json!("Read"), Some(bytes)))
            }
            VfsAction::ReadDir => {
                need(Need::Read)?;
                self.read_dir(&disk)
            }
            VfsAction::ReadToString => {
                need(Need::Read)?;
                let text = self.files.read_to_string(&disk)?;
                Ok((json!({ "ReadToString": text }), None))
            }
            VfsAction::Seek(from) => {
                need(Need::Read)?;
                let from = match from {
                    SeekFrom::Start(n) => std::io::SeekFrom::Start(n),
                    SeekFrom::End(n) => std::io::SeekFrom::End(n),
                    SeekFrom::Current(n) => std::io::SeekFrom::Current(n),
                };
                let offset = self.files.with(&disk, |f| std::io::Seek::seek(f, from))?;
                Ok((json!({ "SeekFrom": { "new_offset": offset } }), None))
            }
            VfsAction::RemoveFile => {
                need(Need::Write)?;
                std::fs::remove_file(&disk).map_err(io)?;
                self.files.close(&disk);
                Ok(ok())
            }
            VfsAction::RemoveDir => {
                need(Need::Write)?;
                std::fs::remove_dir(&disk).map_err(io).map(|_| ok())
            }
            VfsAction::RemoveDirAll => {
                need(Need::Write)?;
                std::fs::remove_dir_all(&disk).map_err(io).map(|_| ok())
            }
            VfsAction::Rename { new_path } => {
                self.move_or_copy(&checker, kernel, &path, &new_path, true)
            }
            VfsAction::CopyFile { new_path } => {
                self.move_or_copy(&checker, kernel, &path, &new_path, false)
            }
            VfsAction::Metadata => {
                need(Need::Read)?;
                let meta = std::fs::metadata(&disk).map_err(io)?;
                let metadata = json!({ "file_type": file_type(&meta), "len": meta.len() });
                Ok((json!({ "Metadata": metadata }), None))
            }
            VfsAction::Len => {
                need(Need::Read)?;
                let len = self.files.with(&disk, |f| f.metadata().map(|m| m.len()))?;
                Ok((json!({ "Len": len }), None))
            }
            VfsAction::SetLen(len) => {
                need(Need::Write)?;
                self.files.with(&disk, |f| f.set_len(len)).map(|_| ok())
            }
            VfsAction::Hash => {
                need(Need::Read)?;
                let hash = self.files.hash(&disk)?;
                Ok((json!({ "Hash": hash }), None))
            }
            VfsAction::AddZip => {
                need(Need::Write)?;
                let bytes = blob()?;
                files::unzip(&bytes, &disk).map(|_| ok())
            }
        }
    }

    /// `Rename` (`moving`) or `CopyFile` to `new_path`, with the two-path
    /// capability rule.
    fn move_or_copy(
        &self,
        checker: &Checker,
        kernel: bool,
        path: &VfsPath,
        new_path: &str,
        moving: bool,
    ) -> Result<Done, VfsError> {
        let new = VfsPath::parse(new_path)?;
        if !kernel {
            checker.check_two(path, &new)?;
        }
        let (from, to) = (path.on_disk(&self.root), new.on_disk(&self.root));
        let done = if moving {
            std::fs::rename(from, to)
        } else {
            std::fs::copy(from, to).map(|_| ())
        };
        done.map_err(io).map(|_| ok())
    }

    /// Entries with paths relative to the vfs root (no leading `/`).
    fn read_dir(&self, dir: &std::path::Path) -> Result<Done, VfsError> {
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let meta = std::fs::symlink_metadata(entry.path()).map_err(io)?;
            let path = entry.path();
            let relative = path.strip_prefix(&self.root).unwrap_or(&path);
            entries.push(json!({
                "path": relative.display().to_string(),
                "file_type": file_type(&meta),
            }));
        }
        Ok((json!({ "ReadDir": entries }), None))
    }
}

fn file_type(meta: &std::fs::Metadata) -> &'static str {
    if meta.is_symlink() {
        "Symlink"
    } else if meta.is_dir() {
        "Directory"
    } else if meta.is_file() {
        "File"
    } else {
        "Other"
    }
}

impl Module for Vfs {
    fn handle(&self, port: &Arc<dyn Port>, km: KernelMessage) {
        if km.source.node != port.node() {
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
            .and_then(|r| self.run(port, &km, r));
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
                    respond_to_source(port, "vfs", &km, answer);
                } else {
                    respond(port, "vfs", &km, answer);
                }
            }
            Err(error) => {
                if matches!(error, VfsError::NoReadCap | VfsError::NoWriteCap) {
                    port.note(Event::Module(ModuleEvent::VfsRefused {
                        process: km.source.process.clone(),
                        path,
                        error: format!("{error:?}"),
                    }));
                }
                if km.expects_response() {
                    respond(port, "vfs", &km, Answer::new(error.body().to_string()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
