//! What the runtime writes as JSON where a manifest or a kernel command
//! carries an on-exit behaviour: `"None"`, `"Restart"` or `{"Requests":
//! [[address, request, blob], ...]}`, with requests in the runtime's serde
//! form (bodies as byte arrays, capabilities with their signatures).

use serde::Deserialize;

use super::bindings::{Address, Capability, LazyLoadBlob, OnExit, Request};

/// `"None"`, `"Restart"` or `{"Requests": [[address, request, blob], ...]}`.
#[derive(Debug, Clone, Deserialize)]
pub enum WireOnExit {
    None,
    Restart,
    Requests(Vec<(String, WireRequest, Option<WireBlob>)>),
}

/// A request as the runtime serializes it (`body` as a byte array; every
/// field required). The kernel reads `capabilities` as `[capability,
/// signature]` pairs (the signature ignored here); the app store reads a
/// manifest's as `{issuer, params}` objects, so only an empty list passes
/// both on its way from a manifest to the kernel.
#[derive(Debug, Clone, Deserialize)]
pub struct WireRequest {
    pub inherit: bool,
    pub expects_response: Option<u64>,
    pub body: Vec<u8>,
    pub metadata: Option<String>,
    pub capabilities: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WireCapability {
    pub issuer: String,
    pub params: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WireBlob {
    pub mime: Option<String>,
    pub bytes: Vec<u8>,
}

impl WireOnExit {
    /// As a manifest gives it, through the app store to the kernel: a
    /// request that carries capabilities fails the install on a node.
    pub fn to_on_exit_from_manifest(&self) -> Result<OnExit, String> {
        if let WireOnExit::Requests(list) = self {
            if let Some(i) = list.iter().position(|(_, r, _)| !r.capabilities.is_empty()) {
                return Err(format!(
                    "Requests[{i}].capabilities must be empty: a node's app store reads them as \
                     {{\"issuer\", \"params\"}} objects, but the kernel it passes them to reads \
                     [capability, signature] pairs, so the install never finishes; on-exit \
                     requests cannot carry capabilities from a manifest (set them with \
                     set_on_exit in init instead)"
                ));
            }
        }
        self.to_on_exit()
    }

    pub fn to_on_exit(&self) -> Result<OnExit, String> {
        Ok(match self {
            WireOnExit::None => OnExit::None,
            WireOnExit::Restart => OnExit::Restart,
            WireOnExit::Requests(list) => {
                let mut requests = Vec::new();
                for (target, request, blob) in list {
                    let mut capabilities = Vec::new();
                    for pair in &request.capabilities {
                        let (cap, _signature): (WireCapability, serde_json::Value) =
                            serde_json::from_value(pair.clone()).map_err(|e| {
                                format!(
                                    "a capability here is a [{{\"issuer\", \"params\"}}, signature] \
                                     pair: {e}"
                                )
                            })?;
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
