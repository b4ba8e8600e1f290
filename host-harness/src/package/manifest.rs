//! `pkg/manifest.json`: the processes a package installs, in the schema the
//! runtime reads (all seven fields required).

use serde::Deserialize;

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

impl CapabilityEntry {
    pub fn parse(value: &serde_json::Value) -> Result<Self, String> {
        match value {
            serde_json::Value::String(id) => Ok(CapabilityEntry {
                process: ProcessId::parse(id)?,
                params: MESSAGING.into(),
            }),
            serde_json::Value::Object(map) => {
                let process = map
                    .get("process")
                    .and_then(|p| p.as_str())
                    .ok_or("an object entry needs a string field `process`")?;
                let params = map
                    .get("params")
                    .ok_or("an object entry needs a field `params`")?;
                Ok(CapabilityEntry {
                    process: ProcessId::parse(process)?,
                    params: params.to_string(),
                })
            }
            other => Err(format!(
                "expected \"name:package:publisher\" or {{\"process\": .., \"params\": ..}}, got {other}"
            )),
        }
    }
}
