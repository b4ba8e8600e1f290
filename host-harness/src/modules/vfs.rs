//! `vfs:distro:sys`: reads files from a package's `pkg` drive, with the
//! real vfs's path rules and capability checks. Other actions answer an
//! error and are reported.
//!
//! Paths are `/package:publisher/drive/file` (leading `/` optional; `.` and
//! `..` resolved, never above the root). A process reads any drive of its
//! own package freely; others need `{"kind":"read","drive":"/p:u/drive"}`
//! issued by vfs, or `{"root":true}`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;

use crate::bindings::{Capability, LazyLoadBlob, PackageId, ProcessId};
use crate::kernel::event::{Event, ModuleEvent};
use crate::kernel::message::KernelMessage;
use crate::node::Port;

use super::{respond, Answer, Module};

pub struct Vfs {
    /// Each package's `pkg` drive on disk.
    drives: HashMap<PackageId, PathBuf>,
}

/// A vfs error, serialized as the runtime's `VfsResponse::Err(VfsError)`.
#[derive(Debug, PartialEq, Eq)]
enum VfsError {
    NoReadCap,
    MalformedRequest,
    IoError(String),
}

impl VfsError {
    fn body(&self) -> serde_json::Value {
        match self {
            VfsError::NoReadCap => json!({ "Err": "NoReadCap" }),
            VfsError::MalformedRequest => json!({ "Err": "MalformedRequest" }),
            VfsError::IoError(text) => json!({ "Err": { "IOError": text } }),
        }
    }
}

/// `/pkg:pub/drive/rest` split after normalising: package, drive, file.
fn parse_path(path: &str) -> Result<(PackageId, String, Vec<String>), VfsError> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.trim_start_matches(['/', '\\']).split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop().ok_or(VfsError::MalformedRequest)?;
            }
            other => parts.push(other),
        }
    }
    if parts.len() < 2 {
        return Err(VfsError::MalformedRequest);
    }
    let package = PackageId::parse(parts[0]).ok_or(VfsError::MalformedRequest)?;
    let rest = parts[2..].iter().map(|s| s.to_string()).collect();
    Ok((package, parts[1].to_owned(), rest))
}

impl Vfs {
    pub fn new(drives: HashMap<PackageId, PathBuf>) -> Self {
        Vfs { drives }
    }

    fn read(
        &self,
        port: &Arc<dyn Port>,
        km: &KernelMessage,
        path: &str,
    ) -> Result<Vec<u8>, VfsError> {
        let (package, drive, rest) = parse_path(path)?;
        let drive_path = format!("/{package}/{drive}");
        let source = &km.source.process;
        let vfs = crate::bindings::Address::new(port.node(), ProcessId::runtime("vfs"));
        let caps = [
            json!({ "kind": "read", "drive": drive_path }).to_string(),
            json!({ "root": true }).to_string(),
        ]
        .map(|params| Capability::new(vfs.clone(), params));
        let allowed = *source == ProcessId::runtime("kernel")
            || source.package_id() == package
            || port.kernel(|k| caps.iter().any(|cap| k.holds(source, cap)));
        if !allowed {
            return Err(VfsError::NoReadCap);
        }
        let not_found = || VfsError::IoError("No such file or directory (os error 2)".into());
        if drive != "pkg" || rest.is_empty() {
            return Err(not_found());
        }
        let dir = self.drives.get(&package).ok_or_else(not_found)?;
        let file = rest.iter().fold(dir.clone(), |p, part| p.join(part));
        std::fs::read(&file).map_err(|e| VfsError::IoError(e.to_string()))
    }
}

impl Module for Vfs {
    fn handle(&self, port: &Arc<dyn Port>, km: KernelMessage) {
        if km.source.node != port.node() {
            return;
        }
        let Some(request) = km.request() else { return };
        let parsed: Option<(String, serde_json::Value)> =
            serde_json::from_slice::<serde_json::Value>(&request.body)
                .ok()
                .and_then(|v| {
                    Some((
                        v.get("path")?.as_str()?.to_owned(),
                        v.get("action")?.clone(),
                    ))
                });
        let process = km.source.process.clone();
        let result = match &parsed {
            None => Err(VfsError::MalformedRequest),
            Some((path, action)) if action == "Read" => self.read(port, &km, path),
            Some((path, action)) => {
                port.note(Event::Module(ModuleEvent::VfsNotEmulated {
                    process: process.clone(),
                    action: action.to_string(),
                    path: path.clone(),
                }));
                Err(VfsError::IoError("not supported by host-harness".into()))
            }
        };
        match result {
            Ok(bytes) => {
                // Success answers echo the request's metadata.
                let answer = Answer {
                    metadata: request.metadata.clone(),
                    blob: Some(LazyLoadBlob {
                        mime: Some("application/octet-stream".into()),
                        bytes,
                    }),
                    ..Answer::new(b"\"Read\"".to_vec())
                };
                respond(port, "vfs", &km, answer);
            }
            Err(error) => {
                if error == VfsError::NoReadCap {
                    let path = parsed.map(|p| p.0).unwrap_or_default();
                    port.note(Event::Module(ModuleEvent::VfsNoReadCap { process, path }));
                }
                // Errors go only to requests that expect an answer, and
                // carry no metadata.
                respond(port, "vfs", &km, Answer::new(error.body().to_string()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_like_the_real_vfs() {
        let (package, drive, rest) = parse_path("/spawn:template.os/pkg/child.wasm").unwrap();
        assert_eq!(package.to_string(), "spawn:template.os");
        assert_eq!(drive, "pkg");
        assert_eq!(rest, ["child.wasm"]);
        // The leading slash is optional, `.` and `..` resolve.
        let (_, drive, rest) = parse_path("spawn:template.os/pkg/./x/../child.wasm").unwrap();
        assert_eq!(
            (drive.as_str(), rest),
            ("pkg", vec!["child.wasm".to_string()])
        );
        // Never above the root; a package id needs two parts.
        assert_eq!(
            parse_path("/../etc/passwd"),
            Err(VfsError::MalformedRequest)
        );
        assert_eq!(parse_path("/a:b/../../x"), Err(VfsError::MalformedRequest));
        assert_eq!(
            parse_path("/spawn/pkg/child.wasm"),
            Err(VfsError::MalformedRequest)
        );
        assert_eq!(
            parse_path("/spawn:template.os"),
            Err(VfsError::MalformedRequest)
        );
    }

    #[test]
    fn errors_serialize_as_the_runtime_does() {
        assert_eq!(
            VfsError::NoReadCap.body().to_string(),
            r#"{"Err":"NoReadCap"}"#
        );
        assert_eq!(
            VfsError::IoError("x".into()).body().to_string(),
            r#"{"Err":{"IOError":"x"}}"#
        );
    }
}
