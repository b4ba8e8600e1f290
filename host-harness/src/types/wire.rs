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

/// A request as the runtime serializes it (`body` as a byte array;
/// capabilities as `[capability, signature]` pairs, signature ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct WireRequest {
    pub inherit: bool,
    pub expects_response: Option<u64>,
    pub body: Vec<u8>,
    pub metadata: Option<String>,
    #[serde(default)]
    pub capabilities: Vec<(WireCapability, serde_json::Value)>,
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
    pub fn to_on_exit(&self) -> Result<OnExit, String> {
        Ok(match self {
            WireOnExit::None => OnExit::None,
            WireOnExit::Restart => OnExit::Restart,
            WireOnExit::Requests(list) => {
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
