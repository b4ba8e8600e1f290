//! The listening side: hyper on 127.0.0.1, one task per connection, each
//! request routed in a node's order: a WebSocket upgrade that a binding
//! accepts; the login route (`GET` and `POST /login`); then the HTTP
//! bindings, where a refused upgrade goes too (a node's warp filters are
//! `ws.or(login).or(http)`). An HTTP request is answered as the node
//! answers it: 404 for no binding, the login page (200) without the
//! cookie on an authenticated path (and for a secure subdomain 307 to it
//! from another host), 403 off-machine on a local-only one, static
//! content on GET, kit's RPC messages (`rpc.rs`), otherwise the bound
//! process's own response, 408 if it does not answer within 15 s and 500
//! if its answer is malformed.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::sync::oneshot;

use crate::kernel::event::ModuleEvent;
use crate::kernel::message::KernelMessage;
use crate::node::ModuleCtx;
use crate::types::{self, Address, LazyLoadBlob, Message, ProcessId};
use crate::util::lock;

use super::routes::{normalise, Binding};
use super::{auth, rpc, websocket, Reply, Shared, ANSWER_SECS};

pub type Body = Full<Bytes>;

/// Binds the listener and starts accepting; returns the ctx.
pub fn start(shared: Arc<Shared>, ctx: ModuleCtx) -> Result<u16, String> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", shared.wanted_port)).map_err(|e| {
        format!(
            "http-server: cannot listen on port {}: {e}",
            shared.wanted_port
        )
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("http-server: {e}"))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("http-server: {e}"))?
        .port();
    let listener =
        tokio::net::TcpListener::from_std(listener).map_err(|e| format!("http-server: {e}"))?;
    let tasks = ctx.clone();
    ctx.spawn(Box::pin(async move {
        while let Ok((stream, peer)) = listener.accept().await {
            let (shared, ctx) = (shared.clone(), tasks.clone());
            tasks.spawn(Box::pin(async move {
                let service = service_fn(move |request| {
                    let (shared, ctx) = (shared.clone(), ctx.clone());
                    async move { Ok::<_, Infallible>(answer(&shared, &ctx, request, peer).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades()
                    .await;
            }));
        }
    }));
    Ok(bound)
}

/// A connection in memory, served as an accepted socket from 127.0.0.1
/// is; the other end is returned.
pub fn connect(shared: Arc<Shared>, ctx: ModuleCtx) -> tokio::io::DuplexStream {
    let (client, server) = tokio::io::duplex(1 << 16);
    let peer: SocketAddr = ([127, 0, 0, 1], 0).into();
    let tasks = ctx.clone();
    tasks.spawn(Box::pin(async move {
        let service = service_fn(move |request| {
            let (shared, ctx) = (shared.clone(), ctx.clone());
            async move { Ok::<_, Infallible>(answer(&shared, &ctx, request, peer).await) }
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(server), service)
            .with_upgrades()
            .await;
    }));
    client
}

/// A response with `content_type`, or `application/octet-stream` (what
/// warp gives a node's answers with a body of bytes).
pub fn reply(status: StatusCode, content_type: Option<&str>, body: Vec<u8>) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let content_type = content_type.unwrap_or("application/octet-stream");
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert("content-type", value);
    }
    response
}

/// A response with no `Content-Type`, as a node sends its login page in
/// place of an authenticated path, and its redirects.
pub fn bare(status: StatusCode, body: Vec<u8>) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}

async fn answer(
    shared: &Arc<Shared>,
    ctx: &ModuleCtx,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let (response, process) = route(shared, ctx, request, peer).await;
    ctx.note(ModuleEvent::HttpServed {
        method,
        path,
        status: response.status().as_u16(),
        process,
    });
    response
}

async fn route(
    shared: &Arc<Shared>,
    ctx: &ModuleCtx,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Answered {
    let original = normalise(request.uri().path()).to_string();
    let request = if websocket::is_upgrade(&request) {
        match route_websocket(shared, ctx, request, peer, &original) {
            Ok(accepted) => return accepted,
            Err(refused) => *refused,
        }
    } else {
        request
    };
    if auth::is_login(request.method(), &original, content_length(&request)) {
        return (login_route(shared, request).await, None);
    }
    route_http(shared, ctx, request, peer, &original).await
}

/// An ordinary HTTP request: its binding (or its process's `/` binding)
/// and what that binding wants.
async fn route_http(
    shared: &Arc<Shared>,
    ctx: &ModuleCtx,
    request: Request<Incoming>,
    peer: SocketAddr,
    original: &str,
) -> Answered {
    let found = lock(&shared.routes)
        .find_or_base(original)
        .map(|(binding, params)| (binding.clone(), params));
    let Some((binding, url_params)) = found else {
        return (reply(StatusCode::NOT_FOUND, None, vec![]), None);
    };
    let Some(process) = binding.process.clone() else {
        return (reply(StatusCode::NOT_FOUND, None, vec![]), None);
    };
    let headers = header_map(&request);
    let query = query_map(&request);
    let authority = authority(&headers);
    if binding.authenticated {
        let asked = Asked {
            headers: &headers,
            query: &query,
            authority: &authority,
            path: original,
        };
        if let Some(refused) = refuse_login(shared, &binding, &process, &asked) {
            return (refused, Some(process));
        }
    }
    if binding.local_only && !peer.ip().is_loopback() {
        return (reply(StatusCode::FORBIDDEN, None, vec![]), Some(process));
    }
    if let Some((mime, bytes)) = &binding.content {
        if request.method() == hyper::Method::GET {
            let mime = mime.as_deref().or(Some("text/plain"));
            return (reply(StatusCode::OK, mime, bytes.clone()), Some(process));
        }
    }
    let method = request.method().to_string();
    let body = match read_body(shared.body_limit, request).await {
        Ok(body) => body,
        Err(status) => return (reply(status, None, vec![]), Some(process)),
    };
    if process == rpc::process() {
        return (rpc::handle(shared, ctx, &body).await, Some(process));
    }
    let incoming = json!({ "Http": {
        "source_socket_addr": peer.to_string(),
        "method": method,
        "url": format!("http://{}{original}", host_name(&authority)),
        "bound_path": binding.path,
        "headers": headers,
        "url_params": url_params,
        "query_params": query,
    }});
    let response = forward(shared, ctx, &process, incoming, body).await;
    (response, Some(process))
}

/// What an authenticated binding checks of a request.
struct Asked<'a> {
    headers: &'a HashMap<String, String>,
    query: &'a HashMap<String, String>,
    /// The `Host` header, port and all (`localhost` without one).
    authority: &'a str,
    path: &'a str,
}

/// How an authenticated binding answers a request without what it takes,
/// as a node's does; `None` lets it through. A secure subdomain wants its
/// host (401 for an empty first label, 307 to `{subdomain}.{host}` from
/// any other) and the app's own cookie; any other authenticated path the
/// node's cookie. Without the cookie: the login page, 200.
fn refuse_login(
    shared: &Shared,
    binding: &Binding,
    process: &ProcessId,
    asked: &Asked,
) -> Option<Response<Body>> {
    let allowed = match &binding.secure_subdomain {
        Some(subdomain) => {
            let label = host_name(asked.authority).split('.').next().unwrap_or("");
            if label.is_empty() {
                let text = "attempted to access secure subdomain without host";
                let plain = Some("text/plain; charset=utf-8");
                return Some(reply(StatusCode::UNAUTHORIZED, plain, text.into()));
            }
            if label != subdomain {
                return Some(redirect_to_subdomain(subdomain, asked));
            }
            shared.logged_in_to(asked.headers, process)
        }
        None => shared.logged_in(asked.headers),
    };
    (!allowed).then(|| bare(StatusCode::OK, shared.login_page().into_bytes()))
}

/// 307 to the same path and query on the app's secure subdomain. (A node
/// rebuilds the query from its decoded parameters, in its map's order;
/// here they are sorted.)
fn redirect_to_subdomain(subdomain: &str, asked: &Asked) -> Response<Body> {
    let proto = asked
        .headers
        .get("x-forwarded-proto")
        .map_or("http", String::as_str);
    let mut pairs: Vec<String> = asked
        .query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    pairs.sort();
    let query = if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    };
    let location = format!(
        "{proto}://{subdomain}.{}{}{query}",
        asked.authority, asked.path
    );
    let mut response = bare(StatusCode::TEMPORARY_REDIRECT, vec![]);
    if let Ok(location) = location.parse() {
        response.headers_mut().insert("location", location);
    }
    response
}

/// `GET /login`: the login page (as HTML, unlike the page an
/// authenticated path answers with); `POST /login`: a login.
async fn login_route(shared: &Shared, request: Request<Incoming>) -> Response<Body> {
    if request.method() == hyper::Method::GET {
        let page = shared.login_page().into_bytes();
        return reply(StatusCode::OK, Some("text/html; charset=utf-8"), page);
    }
    let headers = header_map(&request);
    let query = query_map(&request);
    let host = authority(&headers);
    match read_body(shared.body_limit, request).await {
        Ok(body) => auth::login(shared, &host, &query, &body),
        Err(status) => reply(status, None, vec![]),
    }
}

/// A response, and the process whose binding it came from.
type Answered = (Response<Body>, Option<ProcessId>);

/// A WebSocket upgrade: accepted if its binding (found exactly: a node
/// does not fall back to the process's `/` here) lets the client in;
/// otherwise the request is handed back, to be routed as HTTP. A binding
/// lets in: an authenticated one only with the cookie (a secure one only
/// on its subdomain with the app's cookie), an extension's only from this
/// machine, none past 128 open channels.
fn route_websocket(
    shared: &Arc<Shared>,
    ctx: &ModuleCtx,
    request: Request<Incoming>,
    peer: SocketAddr,
    original: &str,
) -> Result<Answered, Box<Request<Incoming>>> {
    let open = lock(&shared.channels).len();
    if open >= websocket::MAX_CHANNELS {
        ctx.print(
            0,
            format!("http-server: {open} WebSockets are open, the most a node takes: refused"),
        );
        return Err(Box::new(request));
    }
    let found = lock(&shared.ws_routes)
        .find(original)
        .and_then(|(binding, _)| Some((binding.process.clone()?, binding.clone())));
    let Some((process, binding)) = found else {
        return Err(Box::new(request));
    };
    let headers = header_map(&request);
    let refused = (binding.authenticated && !ws_logged_in(shared, &binding, &process, &headers))
        || (binding.local_only && !peer.ip().is_loopback());
    if refused {
        return Err(Box::new(request));
    }
    let client = websocket::Client {
        address: peer.to_string(),
        forwarded_for: headers.get("x-forwarded-for").cloned(),
    };
    let response = websocket::accept(
        shared.clone(),
        ctx,
        request,
        process.clone(),
        original,
        client,
    );
    Ok((response, Some(process)))
}

/// Whether an authenticated WebSocket binding lets the client in.
fn ws_logged_in(
    shared: &Shared,
    binding: &Binding,
    process: &ProcessId,
    headers: &HashMap<String, String>,
) -> bool {
    match (&binding.secure_subdomain, headers.get("host")) {
        (Some(subdomain), Some(host)) => {
            host_name(host).split('.').next() == Some(subdomain.as_str())
                && shared.logged_in_to(headers, process)
        }
        (Some(_), None) => false,
        (None, _) => shared.logged_in(headers),
    }
}

/// Sends the request to the bound process and waits for its answer.
async fn forward(
    shared: &Shared,
    ctx: &ModuleCtx,
    process: &ProcessId,
    incoming: serde_json::Value,
    body: Vec<u8>,
) -> Response<Body> {
    let km = KernelMessage {
        id: ctx.random(),
        source: Address::new(ctx.node(), ProcessId::runtime("http-server")),
        target: Address::new(ctx.node(), process.clone()),
        rsvp: None,
        message: Message::Request(types::Request {
            inherit: false,
            expects_response: Some(ANSWER_SECS),
            body: incoming.to_string().into_bytes(),
            metadata: None,
            capabilities: vec![],
        }),
        blob: Some(LazyLoadBlob {
            mime: None,
            bytes: body,
        }),
    };
    match shared.ask(ctx, km).await {
        Ok(answer) => http_response(answer),
        Err(status) => reply(status, None, vec![]),
    }
}

/// A process's `HttpResponse` (status and headers) with its blob as the
/// body; 500 if it is not one.
fn http_response((body, blob): Reply) -> Response<Body> {
    #[derive(serde::Deserialize)]
    struct HttpResponse {
        status: u16,
        headers: HashMap<String, String>,
    }
    let Ok(answer) = serde_json::from_slice::<HttpResponse>(&body) else {
        return reply(StatusCode::INTERNAL_SERVER_ERROR, None, vec![]);
    };
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let bytes = blob.map(|b| b.bytes).unwrap_or_default();
    let mut response = reply(status, None, bytes);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

impl Shared {
    /// Sends `km`, a request to a process, and waits up to 15 s for its
    /// response: 408 if none comes, 500 if the server let it go.
    pub async fn ask(&self, ctx: &ModuleCtx, km: KernelMessage) -> Result<Reply, StatusCode> {
        let id = km.id;
        let (sender, answered) = oneshot::channel();
        lock(&self.pending).insert(id, sender);
        let waiting = ctx.busy();
        ctx.send(km);
        let result = tokio::time::timeout(Duration::from_secs(ANSWER_SECS), answered).await;
        lock(&self.pending).remove(&id);
        drop(waiting);
        match result {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Err(StatusCode::INTERNAL_SERVER_ERROR),
            Err(_) => Err(StatusCode::REQUEST_TIMEOUT),
        }
    }
}

/// The whole body, up to the harness's limit (413 past it; a node takes
/// any body).
async fn read_body(limit: usize, request: Request<Incoming>) -> Result<Vec<u8>, StatusCode> {
    let limited = http_body_util::Limited::new(request.into_body(), limit);
    match limited.collect().await {
        Ok(collected) => Ok(Vec::from(collected.to_bytes())),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(StatusCode::PAYLOAD_TOO_LARGE),
        Err(_) => Err(StatusCode::BAD_REQUEST),
    }
}

/// The declared `Content-Length`, if any.
fn content_length(request: &Request<Incoming>) -> Option<u64> {
    request
        .headers()
        .get("content-length")?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// The query's parameters, decoded (the last of repeated ones).
fn query_map(request: &Request<Incoming>) -> HashMap<String, String> {
    request
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

/// The `Host` header as given, or `localhost`, as a node reads it.
fn authority(headers: &HashMap<String, String>) -> String {
    headers
        .get("host")
        .cloned()
        .unwrap_or_else(|| "localhost".into())
}

/// An authority's host, without its port (`[::1]:8080` is `[::1]`).
fn host_name(authority: &str) -> &str {
    match authority.find(']') {
        Some(end) if authority.starts_with('[') => &authority[..=end],
        _ => authority.split(':').next().unwrap_or_default(),
    }
}

/// The request's headers by lowercase name (the last of repeated ones).
fn header_map(request: &Request<Incoming>) -> HashMap<String, String> {
    request
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = value.to_str().unwrap_or_default().to_string();
            (name.as_str().to_ascii_lowercase(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_lose_their_port() {
        assert_eq!(host_name("localhost:8080"), "localhost");
        assert_eq!(host_name("app-me-os.localhost"), "app-me-os.localhost");
        assert_eq!(host_name("[::1]:80"), "[::1]");
    }
}
