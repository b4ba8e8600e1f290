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

/// The body of an `{"Http": ...}` request, as the SDK writes it.
#[derive(Debug, Deserialize)]
struct OutgoingHttpRequest {
    method: String,
    version: Option<String>,
    url: String,
    #[allow(dead_code)]
    headers: HashMap<String, String>,
}

const VERSIONS: [&str; 5] = ["HTTP/0.9", "HTTP/1.0", "HTTP/1.1", "HTTP/2.0", "HTTP/3.0"];

/// The checks the runtime makes before sending: a body it can parse, a
/// method, a version it knows, a URL. `Err` is the error body.
fn validate(body: &[u8]) -> Result<OutgoingHttpRequest, serde_json::Value> {
    let action: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| json!({ "Err": "MalformedRequest" }))?;
    let request: OutgoingHttpRequest = action
        .get("Http")
        .and_then(|http| serde_json::from_value(http.clone()).ok())
        .ok_or_else(|| json!({ "Err": "MalformedRequest" }))?;
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if request.method.is_empty() || !request.method.chars().all(token) {
        return Err(json!({ "Err": { "BadMethod": { "method": request.method } } }));
    }
    if let Some(version) = &request.version {
        if !VERSIONS.contains(&version.as_str()) {
            return Err(json!({ "Err": { "BadVersion": { "version": version } } }));
        }
    }
    if url::Url::parse(&request.url).is_err() {
        return Err(json!({ "Err": { "BadUrl": { "url": request.url } } }));
    }
    Ok(request)
}

/// Header names as the runtime returns them: each `-`-separated part
/// capitalised (`content-type` → `Content-Type`).
fn pascal_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => {
                    first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
                }
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

impl Module for HttpClient {
    fn handle(&self, kernel: &Arc<Kernel>, km: KernelMessage) {
        let Some(request) = km.request() else { return };
        let outgoing = match validate(&request.body) {
            Ok(outgoing) => outgoing,
            Err(error) => {
                kernel.note(
                    Level::Warning,
                    &km.source.process,
                    format!(
                        "http-client refused {} with {error}",
                        String::from_utf8_lossy(&request.body)
                    ),
                    Some("send what kinode_process_lib::http::client builds; WebSockets are not emulated".into()),
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
            }
        };
        let (method, url) = (outgoing.method.as_str(), outgoing.url.as_str());
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
                let headers: HashMap<String, String> = mock
                    .headers
                    .iter()
                    .map(|(name, value)| (pascal_case(name), value.clone()))
                    .collect();
                let body =
                    json!({ "Ok": { "Http": { "status": mock.status, "headers": headers } } });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: serde_json::Value) -> Result<String, String> {
        validate(body.to_string().as_bytes())
            .map(|r| r.url)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn requests_are_checked_as_the_runtime_does() {
        let ok = json!({"Http": {"method": "GET", "version": null, "url": "https://a.b/c", "headers": {}}});
        assert_eq!(check(ok), Ok("https://a.b/c".into()));
        let bad_url =
            json!({"Http": {"method": "GET", "version": null, "url": "nope", "headers": {}}});
        assert_eq!(
            check(bad_url),
            Err(r#"{"Err":{"BadUrl":{"url":"nope"}}}"#.into())
        );
        let bad_method = json!({"Http": {"method": "GE T", "version": null, "url": "https://a.b", "headers": {}}});
        assert_eq!(
            check(bad_method),
            Err(r#"{"Err":{"BadMethod":{"method":"GE T"}}}"#.into())
        );
        let bad_version = json!({"Http": {"method": "GET", "version": "HTTP/4", "url": "https://a.b", "headers": {}}});
        assert_eq!(
            check(bad_version),
            Err(r#"{"Err":{"BadVersion":{"version":"HTTP/4"}}}"#.into())
        );
        assert_eq!(
            check(json!({"WebSocketClose": {"channel_id": 1}})),
            Err(r#"{"Err":"MalformedRequest"}"#.into())
        );
    }

    #[test]
    fn header_names_are_pascal_cased() {
        assert_eq!(pascal_case("content-type"), "Content-Type");
        assert_eq!(pascal_case("X-REQUEST-ID"), "X-Request-Id");
    }
}
