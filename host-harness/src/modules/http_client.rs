//! `http-client:distro:sys`: records every outgoing HTTP request and
//! answers from the mocks the user configured (`--http-mocks FILE`); with
//! no matching mock it answers the error a failed request gets, and says
//! so. Bodies are the runtime's: `{"Http": {method, version, url,
//! headers}}` in, `{"Ok": {"Http": {status, headers}}}` (body in the blob)
//! or `{"Err": ...}` out.
//!
//! Like the real module, success answers go out even when no response was
//! expected, errors only when one was; and its answers pass the kernel's
//! capability check, so a non-public process must grant it `messaging`.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;

use crate::bindings::LazyLoadBlob;
use crate::kernel::message::KernelMessage;
use crate::kernel::Kernel;
use crate::report::{HttpRecord, Level};

use super::{respond, Module};

/// One canned answer, as written in the mocks file (a JSON array).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpMock {
    /// Matches any method when absent.
    #[serde(default)]
    pub method: Option<String>,
    pub url: String,
    #[serde(default = "ok_status")]
    pub status: u16,
    #[serde(default)]
    pub headers: HashMap<String, String>,
    #[serde(default)]
    pub body: String,
}

fn ok_status() -> u16 {
    200
}

pub struct HttpClient {
    mocks: Vec<HttpMock>,
}

impl HttpClient {
    pub fn new(mocks: Vec<HttpMock>) -> Self {
        HttpClient { mocks }
    }

    fn find(&self, method: &str, url: &str) -> Option<&HttpMock> {
        self.mocks.iter().find(|m| {
            m.url == url
                && m.method
                    .as_deref()
                    .is_none_or(|want| want.eq_ignore_ascii_case(method))
        })
    }
}

impl Module for HttpClient {
    fn handle(&self, kernel: &Arc<Kernel>, km: KernelMessage) {
        let Some(request) = km.request() else { return };
        let action: serde_json::Value =
            serde_json::from_slice(&request.body).unwrap_or(serde_json::Value::Null);
        let Some(http) = action.get("Http") else {
            let error = json!({ "Err": "MalformedRequest" });
            kernel.note(
                Level::Warning,
                &km.source.process,
                format!(
                    "http-client got a body it does not handle here ({}); answered MalformedRequest",
                    String::from_utf8_lossy(&request.body)
                ),
                Some("host-harness emulates plain HTTP requests ({\"Http\": ...}), not WebSockets".into()),
            );
            if km.expects_response() {
                respond(
                    kernel,
                    "http-client",
                    &km,
                    error.to_string().into_bytes(),
                    None,
                    false,
                );
            }
            return;
        };
        let method = http.get("method").and_then(|m| m.as_str()).unwrap_or("");
        let url = http.get("url").and_then(|u| u.as_str()).unwrap_or("");
        let mock = self.find(method, url);
        {
            let mut state = kernel.lock();
            state.report.http_requests.push(HttpRecord {
                process: km.source.process.to_string(),
                method: method.into(),
                url: url.into(),
                status: mock.map(|m| m.status),
            });
            if mock.is_none() {
                kernel.diagnose(
                    &mut state,
                    Level::Warning,
                    Some(&km.source.process),
                    format!("http-client: no mock for {method} {url}; answered ExecuteRequestFailed"),
                    Some(format!(
                        "add {{\"method\": \"{method}\", \"url\": \"{url}\", \"status\": 200, \"body\": \"...\"}} \
                         to a JSON array and pass it with --http-mocks FILE"
                    )),
                );
            }
        }
        match mock {
            Some(mock) => {
                let body =
                    json!({ "Ok": { "Http": { "status": mock.status, "headers": mock.headers } } });
                let blob = LazyLoadBlob {
                    mime: None,
                    bytes: mock.body.clone().into_bytes(),
                };
                respond(
                    kernel,
                    "http-client",
                    &km,
                    body.to_string().into_bytes(),
                    Some(blob),
                    true,
                );
            }
            None if km.expects_response() => {
                let body = json!({ "Err": { "ExecuteRequestFailed": format!("host-harness has no mock for {method} {url}") } });
                respond(
                    kernel,
                    "http-client",
                    &km,
                    body.to_string().into_bytes(),
                    None,
                    false,
                );
            }
            None => {}
        }
    }
}
