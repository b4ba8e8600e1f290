//! `vfs:distro:sys`: reads files from a package's `pkg` drive, with the
//! real vfs's path rules and capability checks. Other actions answer an
//! error and are reported.
//!
//! Paths are `/package:publisher/drive/file` (leading `/` optional; `.` and
//! `..` resolved, never above the root). A process reads any drive of its
//! own package freely; others need `{"kind":"read","drive":"/p:u/drive"}`
//! issued by vfs, or `{"root":true}`.

use std::sync::Arc;

use serde_json::json;

use crate::bindings::{Capability, LazyLoadBlob, PackageId, ProcessId};
use crate::kernel::message::KernelMessage;
use crate::kernel::Kernel;
use crate::report::Level;

use super::{respond, Module};

pub struct Vfs;

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
    fn read(&self, kernel: &Kernel, km: &KernelMessage, path: &str) -> Result<Vec<u8>, VfsError> {
        let (package, drive, rest) = parse_path(path)?;
        let drive_path = format!("/{package}/{drive}");
        let source = &km.source.process;
        let state = kernel.lock();
        let allowed = *source == ProcessId::runtime("kernel")
            || source.package_id() == package
            || [
                json!({ "kind": "read", "drive": drive_path }).to_string(),
                json!({ "root": true }).to_string(),
            ]
            .into_iter()
            .any(|params| {
                let cap = Capability::new(kernel.address(&ProcessId::runtime("vfs")), params);
                Kernel::holds(&state, source, &cap)
            });
        if !allowed {
            return Err(VfsError::NoReadCap);
        }
        let not_found = || VfsError::IoError("No such file or directory (os error 2)".into());
        if drive != "pkg" || rest.is_empty() {
            return Err(not_found());
        }
        let dir = state
            .drives
            .get(&package.to_string())
            .ok_or_else(not_found)?;
        let file = rest.iter().fold(dir.clone(), |p, part| p.join(part));
        drop(state);
        std::fs::read(&file).map_err(|e| VfsError::IoError(e.to_string()))
    }
}

impl Module for Vfs {
    fn handle(&self, kernel: &Arc<Kernel>, km: KernelMessage) {
        if km.source.node != kernel.node {
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
        let result = match &parsed {
            None => Err(VfsError::MalformedRequest),
            Some((path, action)) if action == "Read" => self.read(kernel, &km, path),
            Some((path, action)) => {
                kernel.note(
                    Level::Warning,
                    &km.source.process,
                    format!(
                        "vfs action {action} on {path} is not emulated; it answered an IOError"
                    ),
                    Some("host-harness's vfs reads files in the package's pkg drive only".into()),
                );
                Err(VfsError::IoError("not supported by host-harness".into()))
            }
        };
        match result {
            Ok(bytes) => {
                let blob = LazyLoadBlob {
                    mime: Some("application/octet-stream".into()),
                    bytes,
                };
                respond(kernel, "vfs", &km, b"\"Read\"".to_vec(), Some(blob), false);
            }
            Err(error) => {
                if error == VfsError::NoReadCap {
                    kernel.note(
                        Level::Warning,
                        &km.source.process,
                        format!(
                            "vfs refused to read {}: NoReadCap",
                            parsed.as_ref().map_or("", |p| p.0.as_str())
                        ),
                        Some("a process reads another package's drive only with a vfs read capability for it".into()),
                    );
                }
                // The real vfs answers errors only to requests that expect one.
                if km.expects_response() {
                    respond(
                        kernel,
                        "vfs",
                        &km,
                        error.body().to_string().into_bytes(),
                        None,
                        false,
                    );
                }
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
