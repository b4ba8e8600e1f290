//! `pkg/manifest.json`: the processes a package installs, in the schema the
//! runtime reads (all seven fields required).

use serde::Deserialize;

use crate::kernel::SkippedEntry;
use crate::types::MESSAGING;
use crate::types::{ProcessId, WireOnExit};

#[derive(Debug, Clone, Deserialize)]
pub struct ManifestEntry {
    pub process_name: String,
    pub process_wasm_path: String,
    pub on_exit: WireOnExit,
    pub request_networking: bool,
    pub request_capabilities: Vec<serde_json::Value>,
    pub grant_capabilities: Vec<serde_json::Value>,
    pub public: bool,
}

/// One entry of `request_capabilities` or `grant_capabilities`: a process
/// id string means `messaging`; an object names the process and params.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilityEntry {
    pub process: ProcessId,
    /// JSON text, e.g. `"messaging"` with quotes.
    pub params: String,
}

/// Which list an entry is in: the app store skips a bad entry in either,
/// but words it differently, and prints for different mistakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapList {
    Request,
    Grant,
}

impl CapList {
    pub fn field(self) -> &'static str {
        match self {
            CapList::Request => "request_capabilities",
            CapList::Grant => "grant_capabilities",
        }
    }
}

impl CapabilityEntry {
    /// Reads entry `index` of `list` as the app store does
    /// (`app-store/src/utils.rs`, `parse_capabilities` and the grant loop
    /// of `install`): a bad entry is skipped, with a print for some
    /// mistakes and silently for others. `holder` is the process the
    /// entry belongs to (the grant print names it).
    pub fn read(
        value: &serde_json::Value,
        list: CapList,
        index: usize,
        holder: &ProcessId,
    ) -> Result<Self, SkippedEntry> {
        let skip = |reason: &str, printed: bool| SkippedEntry {
            field: format!("{}[{index}]", list.field()),
            grant: list == CapList::Grant,
            entry: value.to_string(),
            reason: reason.to_string(),
            printed: printed.then(|| match list {
                CapList::Request => format!("manifest requested invalid cap: {value}"),
                CapList::Grant => format!("{holder} manifest tried to grant invalid cap: {value}"),
            }),
        };
        match value {
            serde_json::Value::String(id) => match sdk_process_id(id) {
                Some(process) => Ok(CapabilityEntry {
                    process,
                    params: MESSAGING.into(),
                }),
                None => Err(skip(NOT_AN_ID, true)),
            },
            serde_json::Value::Object(map) => {
                let Some(process) = map.get("process") else {
                    // Grants print this one; requests skip it silently.
                    return Err(skip(
                        "an object entry needs a field `process`",
                        list == CapList::Grant,
                    ));
                };
                let Some(process) = sdk_process_id(process.as_str().unwrap_or_default()) else {
                    return Err(skip(
                        "its `process` is not a process id (`name:package:publisher`, \
                         a-z 0-9 and `-`, dots only in the publisher)",
                        false,
                    ));
                };
                match map.get("params") {
                    Some(params) => Ok(CapabilityEntry {
                        process,
                        params: params.to_string(),
                    }),
                    // Requests print this one; grants skip it silently.
                    None => Err(skip(
                        "an object entry needs a field `params`",
                        list == CapList::Request,
                    )),
                }
            }
            _ => Err(skip(
                "an entry is \"name:package:publisher\" or {\"process\": .., \"params\": ..}",
                true,
            )),
        }
    }
}

const NOT_AN_ID: &str =
    "it is not a process id (`name:package:publisher`, a-z 0-9 and `-`, dots only in the publisher)";

/// A process id as the SDK's `ProcessId::from_str` reads it (the app
/// store's parser): three parts of a-z, 0-9 and `-`, dots allowed in the
/// publisher.
fn sdk_process_id(text: &str) -> Option<ProcessId> {
    let id = ProcessId::parse(text).ok()?;
    crate::types::check_kimap_safe(&id).ok()?;
    Some(id)
}
