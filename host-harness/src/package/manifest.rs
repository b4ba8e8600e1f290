//! `pkg/manifest.json`: the processes a package installs, in the schema the
//! runtime reads (all seven fields required).

use serde::Deserialize;

use crate::bindings::{Address, Capability, LazyLoadBlob, OnExit, ProcessId, Request};
use crate::capability::MESSAGING;

#[derive(Debug, Clone, Deserialize)]
pub struct ManifestEntry {
    pub process_name: String,
    pub process_wasm_path: String,
    pub on_exit: ManifestOnExit,
    pub request_networking: bool,
    pub request_capabilities: Vec<serde_json::Value>,
    pub grant_capabilities: Vec<serde_json::Value>,
    pub public: bool,
}

/// `"None"`, `"Restart"` or `{"Requests": [[address, request, blob], ...]}`.
#[derive(Debug, Clone, Deserialize)]
pub enum ManifestOnExit {
    None,
    Restart,
    Requests(Vec<(String, ManifestRequest, Option<ManifestBlob>)>),
}

/// A request as the runtime serializes it (`body` as a byte array;
/// capabilities as `[capability, signature]` pairs, signature ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct ManifestRequest {
    pub inherit: bool,
    pub expects_response: Option<u64>,
    pub body: Vec<u8>,
    pub metadata: Option<String>,
    #[serde(default)]
    pub capabilities: Vec<(ManifestCapability, serde_json::Value)>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ManifestCapability {
    pub issuer: String,
    pub params: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ManifestBlob {
    pub mime: Option<String>,
    pub bytes: Vec<u8>,
}

impl ManifestOnExit {
    pub fn to_on_exit(&self) -> Result<OnExit, String> {
        Ok(match self {
            ManifestOnExit::None => OnExit::None,
            ManifestOnExit::Restart => OnExit::Restart,
            ManifestOnExit::Requests(list) => {
                let mut requests = Vec::new();
                for (target, request, blob) in list {
                    let mut capabilities = Vec::new();
                    for (cap, _signature) in &request.capabilities {
                        capabilities
                            .push(Capability::new(Address::parse(&cap.issuer)?, &cap.params));
                    }
                    requests.push((
                        Address::parse(target)?,
                        Request {
                            inherit: request.inherit,
                            expects_response: request.expects_response,
                            body: request.body.clone(),
                            metadata: request.metadata.clone(),
                            capabilities,
                        },
                        blob.as_ref().map(|b| LazyLoadBlob {
                            mime: b.mime.clone(),
                            bytes: b.bytes.clone(),
                        }),
                    ));
                }
                OnExit::Requests(requests)
            }
        })
    }
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
