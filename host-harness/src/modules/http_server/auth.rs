//! Logging in, emulated. A node's login cookie holds a JWT it signs; the
//! harness's holds a token made for the run from its seed:
//! `kinode-auth_{node}={token}` opens authenticated paths, and
//! `kinode-auth_{node}@{process}={app token}` opens `process`'s secure
//! subdomain (`SecureBind`). `POST /login` hands out either, for any
//! password, as a fake node (built with `simulation-mode`) does; `GET
//! /login` serves a login page.

use std::collections::HashMap;

use hyper::StatusCode;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::server::{bare, reply, Body};
use super::Shared;
use crate::types::ProcessId;

/// The largest login body a node reads (`POST /login`); a bigger one goes
/// on to ordinary routing.
const LOGIN_BODY_LIMIT: u64 = 16 * 1024;

/// The token in the per-app cookie of `subdomain` (a process id, as a
/// node's login page sends it): one per app, made from the run's token.
pub fn app_token(token: &str, subdomain: &str) -> String {
    let digest = Sha256::digest(format!("{token}@{subdomain}").as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The cookie (`name=value`) that opens `process`'s secure subdomain on
/// `node`, given the run's token.
pub fn app_cookie(node: &str, token: &str, process: &ProcessId) -> String {
    let process = process.to_string();
    format!(
        "kinode-auth_{node}@{process}={}",
        app_token(token, &process)
    )
}

/// The value of cookie `name` in a `Cookie` header, read as a node reads
/// it: `; `-separated `name=value` pairs, the first of that name.
fn cookie<'a>(cookies: &'a str, name: &str) -> Option<&'a str> {
    cookies.split("; ").find_map(|pair| {
        let parts: Vec<&str> = pair.split('=').collect();
        (parts.len() == 2 && parts[0] == name).then_some(parts[1])
    })
}

impl Shared {
    /// Whether the request carries the node-wide login cookie.
    pub fn logged_in(&self, headers: &HashMap<String, String>) -> bool {
        let name = format!("kinode-auth_{}", self.node());
        headers
            .get("cookie")
            .and_then(|cookies| cookie(cookies, &name))
            .is_some_and(|value| value == self.token)
    }

    /// Whether the request carries `process`'s per-app cookie (the
    /// node-wide one does not do).
    pub fn logged_in_to(&self, headers: &HashMap<String, String>, process: &ProcessId) -> bool {
        let name = format!("kinode-auth_{}@{process}", self.node());
        headers
            .get("cookie")
            .and_then(|cookies| cookie(cookies, &name))
            .is_some_and(|value| value == app_token(&self.token, &process.to_string()))
    }

    /// The page an authenticated path answers without its cookie, and
    /// `GET /login`: a password form that logs in for the app whose secure
    /// subdomain it is on, or for the node.
    pub fn login_page(&self) -> String {
        format!(
            "<!doctype html>\n<title>login: {node}</title>\n<h1>{node}</h1>\n\
             <p>This path is authenticated: log in. host-harness takes any password, as a \
             fake node does.</p>\n\
             <form id=\"login\"><input type=\"password\" id=\"password\" autofocus>\
             <button>Log in</button></form>\n<script>\n\
             document.getElementById('login').onsubmit = async (event) => {{\n\
             \x20 event.preventDefault();\n\
             \x20 const app = location.pathname.split('/')[1] || '';\n\
             \x20 const label = app.split(':').slice(1).join('-').replace(/[^a-zA-Z0-9]/g, '-');\n\
             \x20 const secure = app !== '' && location.hostname.split('.')[0] === label;\n\
             \x20 const password_hash = document.getElementById('password').value;\n\
             \x20 const body = JSON.stringify({{ password_hash, subdomain: secure ? app : '' }});\n\
             \x20 const answer = await fetch('/login', {{ method: 'POST', body }});\n\
             \x20 if (answer.ok) location.reload();\n\
             }};\n</script>\n",
            node = self.node()
        )
    }
}

/// What a login posts: a node checks the password's hash against its
/// keyfile; `subdomain` (a process id) asks for that app's cookie.
#[derive(Deserialize)]
struct LoginInfo {
    #[allow(dead_code)]
    password_hash: String,
    subdomain: Option<String>,
}

/// Whether a request is for the login route, and takes it: `GET /login`,
/// or `POST /login` with a declared body of at most 16 KiB. Anything else
/// on `/login` goes on to ordinary routing, as on a node.
pub fn is_login(method: &hyper::Method, path: &str, content_length: Option<u64>) -> bool {
    path == "/login"
        && (*method == hyper::Method::GET
            || (*method == hyper::Method::POST
                && content_length.is_some_and(|n| n <= LOGIN_BODY_LIMIT)))
}

/// `POST /login`: the cookie for any password, JSON's `"Failed to parse
/// login info"` (400) for a body that is not a login. With `?redirect=`
/// the answer is 303 to that path on the same host, as a node's.
pub fn login(
    shared: &Shared,
    host: &str,
    query: &HashMap<String, String>,
    body: &[u8],
) -> hyper::Response<Body> {
    let Ok(info) = serde_json::from_slice::<LoginInfo>(body) else {
        let error = serde_json::json!("Failed to parse login info").to_string();
        return reply(
            StatusCode::BAD_REQUEST,
            Some("application/json"),
            error.into_bytes(),
        );
    };
    let node = shared.node();
    let cookie = match info.subdomain.as_deref().unwrap_or_default() {
        "" => format!("kinode-auth_{node}={};", shared.token),
        subdomain => {
            // The cookie's name keeps only what a node lets through; the
            // token is for the subdomain as given.
            let kept: String = subdomain
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '.'))
                .collect();
            let token = app_token(&shared.token, subdomain);
            format!("kinode-auth_{node}@{kept}={token};")
        }
    };
    let mut response = match query.get("redirect") {
        Some(redirect) => {
            let mut response = bare(StatusCode::SEE_OTHER, vec![]);
            if let Ok(location) = format!("http://{host}{redirect}").parse() {
                response.headers_mut().insert("location", location);
            }
            response
        }
        // A node answers with its keyfile in base64; the harness has none.
        None => reply(StatusCode::OK, Some("application/json"), b"\"\"".to_vec()),
    };
    let headers = response.headers_mut();
    if let Ok(cookie) = cookie.parse() {
        headers.append("set-cookie", cookie);
        // A node sends these as headers of their own, not cookie attributes.
        for (name, value) in [
            ("httponly", "true"),
            ("secure", "true"),
            ("samesite", "Strict"),
        ] {
            headers.append(name, hyper::header::HeaderValue::from_static(value));
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_as_a_node_reads_them() {
        assert_eq!(cookie("a=1; b=2", "b"), Some("2"));
        assert_eq!(cookie("b=1; b=2", "b"), Some("1"), "the first");
        assert_eq!(cookie("a=1;b=2", "b"), None, "`; ` separates");
        assert_eq!(cookie("b=1=2", "b"), None, "one `=`");
    }

    #[test]
    fn each_app_has_its_own_token() {
        let p = ProcessId::new("app", "pkg", "me.os");
        let cookie = app_cookie("fake.os", "t", &p);
        assert_eq!(
            cookie,
            format!(
                "kinode-auth_fake.os@app:pkg:me.os={}",
                app_token("t", "app:pkg:me.os")
            )
        );
        assert_ne!(app_token("t", "a:b:c"), app_token("t", "x:b:c"));
        assert_ne!(app_token("t", "a:b:c"), app_token("u", "a:b:c"));
    }

    #[test]
    fn only_get_and_a_small_post_are_logins() {
        use hyper::Method;
        assert!(is_login(&Method::GET, "/login", None));
        assert!(is_login(&Method::POST, "/login", Some(10)));
        assert!(!is_login(&Method::POST, "/login", None));
        assert!(!is_login(&Method::POST, "/login", Some(16 * 1024 + 1)));
        assert!(!is_login(&Method::PUT, "/login", Some(1)));
        assert!(!is_login(&Method::GET, "/login/x", None));
    }
}
