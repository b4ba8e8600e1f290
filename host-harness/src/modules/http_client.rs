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

use serde::Deserialize;
use serde_json::json;

use crate::kernel::event::ModuleEvent;
use crate::kernel::message::{Answer, KernelMessage};
use crate::node::{Module, ModuleCtx};
use crate::types::LazyLoadBlob;

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

impl HttpMock {
    /// The mocks in a file as `--http-mocks` takes it: a JSON array.
    pub fn load(path: &std::path::Path) -> Result<Vec<HttpMock>, crate::InputError> {
        let text = crate::util::read_input_text(path)?;
        serde_json::from_str(&text)
            .map_err(|e| crate::InputError::invalid(path, format!("not a list of HTTP mocks: {e}")))
    }
}

pub struct HttpClient {
    mocks: Vec<HttpMock>,
}

impl HttpClient {
    pub fn new(mocks: Vec<HttpMock>) -> Self {
        HttpClient { mocks }
    }

    /// The first mock for `method` and `url`. URLs compare as `url::Url`
    /// prints them (the SDK sends `https://a.b` as `https://a.b/`); methods
    /// compare without case.
    fn find(&self, method: &str, url: &str) -> Option<&HttpMock> {
        let url = normalise(url);
        self.mocks
            .iter()
            .find(|m| normalise(&m.url) == url && method_matches(m, method))
    }

    /// The mocks nearest to a request none matched: same URL first, then
    /// the same host, at most three.
    fn closest(&self, method: &str, url: &str) -> Vec<String> {
        let wanted = url::Url::parse(url).ok();
        let score = |mock: &HttpMock| {
            let theirs = url::Url::parse(&mock.url).ok();
            let same_url = normalise(&mock.url) == normalise(url);
            let same_host = theirs.as_ref().and_then(|u| u.host_str())
                == wanted.as_ref().and_then(|u| u.host_str());
            (same_url, same_host, method_matches(mock, method))
        };
        let mut ranked: Vec<&HttpMock> = self.mocks.iter().collect();
        ranked.sort_by_key(|m| std::cmp::Reverse(score(m)));
        ranked
            .into_iter()
            .filter(|m| {
                let (url, host, _) = score(m);
                url || host
            })
            .take(3)
            .map(|m| format!("{} {}", m.method.as_deref().unwrap_or("*"), m.url))
            .collect()
    }
}

fn method_matches(mock: &HttpMock, method: &str) -> bool {
    mock.method
        .as_deref()
        .is_none_or(|want| want.eq_ignore_ascii_case(method))
}

/// A URL as `url::Url` prints it; unparsable text stays as it is.
fn normalise(url: &str) -> String {
    url::Url::parse(url).map_or_else(|_| url.to_string(), |u| u.to_string())
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

/// The checks the runtime makes before sending, in its order: a body it
/// can parse, a method, a URL, a version it knows. `Err` is the error body.
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
    if url::Url::parse(&request.url).is_err() {
        return Err(json!({ "Err": { "BadUrl": { "url": request.url } } }));
    }
    if let Some(version) = &request.version {
        if !VERSIONS.contains(&version.as_str()) {
            return Err(json!({ "Err": { "BadVersion": { "version": version } } }));
        }
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
    fn handle(&self, ctx: &ModuleCtx, km: KernelMessage) {
        let Some(request) = km.request() else { return };
        let process = km.source.process.clone();
        let outgoing = match validate(&request.body) {
            Ok(outgoing) => outgoing,
            Err(error) => {
                ctx.note(ModuleEvent::HttpRefused {
                    process,
                    body: String::from_utf8_lossy(&request.body).into_owned(),
                    error: error.to_string(),
                });
                if km.expects_response() {
                    ctx.respond(&km, Answer::new(error.to_string()));
                }
                return;
            }
        };
        let (method, url) = (outgoing.method.as_str(), outgoing.url.as_str());
        let line = format!(
            "http-client: {} request to {url}",
            method.to_ascii_uppercase()
        );
        ctx.print(2, line);
        let mock = self.find(method, url);
        let closest = match mock {
            Some(_) => vec![],
            None => self.closest(method, url),
        };
        ctx.note(ModuleEvent::HttpRequest {
            process,
            method: method.into(),
            url: url.into(),
            status: mock.map(|m| m.status),
            closest,
        });
        let Some(mock) = mock else {
            let reason = format!("host-harness has no mock for {method} {url}");
            let body = json!({ "Err": { "ExecuteRequestFailed": reason } });
            if km.expects_response() {
                ctx.respond(&km, Answer::new(body.to_string()));
            }
            return;
        };
        let headers: HashMap<String, String> = mock
            .headers
            .iter()
            .map(|(name, value)| (pascal_case(name), value.clone()))
            .collect();
        let body = json!({ "Ok": { "Http": { "status": mock.status, "headers": headers } } });
        let answer = Answer {
            blob: Some(LazyLoadBlob {
                mime: None,
                bytes: mock.body.clone().into_bytes(),
            }),
            ..Answer::always(body.to_string())
        };
        ctx.respond(&km, answer);
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
    fn the_method_is_checked_before_the_url_and_the_url_before_the_version() {
        let all_bad =
            json!({"Http": {"method": "GE T", "version": "HTTP/4", "url": "nope", "headers": {}}});
        assert!(check(all_bad).unwrap_err().contains("BadMethod"));
        let url_and_version_bad =
            json!({"Http": {"method": "GET", "version": "HTTP/4", "url": "nope", "headers": {}}});
        assert!(check(url_and_version_bad).unwrap_err().contains("BadUrl"));
    }

    fn mock(method: Option<&str>, url: &str) -> HttpMock {
        HttpMock {
            method: method.map(String::from),
            url: url.into(),
            status: 200,
            headers: HashMap::new(),
            body: String::new(),
        }
    }

    #[test]
    fn mocks_match_urls_as_url_prints_them_and_methods_in_any_case() {
        let client = HttpClient::new(vec![mock(Some("get"), "https://a.b")]);
        // process_lib sends `Url::to_string()`: the trailing slash appears.
        assert!(client.find("GET", "https://a.b/").is_some());
        assert!(client.find("GET", "HTTPS://A.B").is_some());
        assert!(client.find("POST", "https://a.b/").is_none());
        assert!(client.find("GET", "https://a.b/c").is_none());
    }

    #[test]
    fn with_no_match_the_closest_mocks_are_named() {
        let client = HttpClient::new(vec![
            mock(Some("GET"), "https://other.host/x"),
            mock(Some("GET"), "https://a.b/y"),
            mock(Some("POST"), "https://a.b/x"),
        ]);
        assert_eq!(
            client.closest("GET", "https://a.b/x"),
            ["POST https://a.b/x", "GET https://a.b/y"]
        );
    }

    #[test]
    fn header_names_are_pascal_cased() {
        assert_eq!(pascal_case("content-type"), "Content-Type");
        assert_eq!(pascal_case("X-REQUEST-ID"), "X-Request-Id");
    }
}
