//! Processes for the tests of http-server's finer points, each printing
//! what reached it: `ws-closer` closes its own WebSocket channel (which
//! hangs a node's http-server), `web-router` binds paths whose routing
//! differs from the obvious (a `/` WebSocket binding, a dotted parameter,
//! secure subdomains), `empty-binder` binds the empty path.

use crate::process_lib::http::server::{
    send_response, HttpBindingConfig, HttpServer, HttpServerAction, HttpServerRequest,
    IncomingHttpRequest, WsBindingConfig,
};
use crate::process_lib::http::StatusCode;
use crate::process_lib::{await_message, println, Request};

fn open() -> HttpBindingConfig {
    HttpBindingConfig::new(false, false, false, None)
}

/// Answers an HTTP request with 200 and a line saying what it was:
/// method, the binding it reached, its `name` parameter, and whether it
/// asked for a WebSocket.
fn describe(request: &IncomingHttpRequest) {
    let upgrade = request.headers().contains_key("upgrade");
    let described = format!(
        "http {} {} name={:?} upgrade={upgrade}",
        request.method().unwrap(),
        request.bound_path(None),
        request.url_params().get("name"),
    );
    println!("{described}");
    send_response(StatusCode::OK, None, described.into_bytes());
}

/// Binds `/ws` and `/hello`; closes each channel as it opens (what the
/// SDK's docs suggest for one it does not want), then tries to bind
/// `/later` once the client has answered the close.
pub fn ws_closer() {
    let mut server = HttpServer::new(5);
    let ws = WsBindingConfig::new(false, false, false);
    server.bind_ws_path("/ws", ws).unwrap();
    server.bind_http_path("/hello", open()).unwrap();
    println!("bound");
    loop {
        let Ok(message) = await_message() else {
            continue;
        };
        match HttpServerRequest::from_bytes(message.body()) {
            Ok(HttpServerRequest::WebSocketOpen {
                path, channel_id, ..
            }) => {
                println!("open {path}");
                let close = HttpServerAction::WebSocketClose(channel_id);
                Request::to(("our", "http-server", "distro", "sys"))
                    .body(serde_json::to_vec(&close).unwrap())
                    .send()
                    .unwrap();
            }
            Ok(HttpServerRequest::WebSocketPush { message_type, .. }) => {
                println!("push {message_type:?}");
                let later = server.bind_http_path("/later", open());
                println!("later {later:?}");
            }
            Ok(HttpServerRequest::WebSocketClose(_)) => println!("closed"),
            Ok(HttpServerRequest::Http(request)) => describe(&request),
            _ => {}
        }
    }
}

/// Binds `/` and `/file/:name.json` (HTTP), `/` and an authenticated
/// `/locked` (WebSocket), and `/secure` and `/secure-ws` on its secure
/// subdomain; describes each HTTP request and WebSocket it gets.
pub fn web_router() {
    let mut server = HttpServer::new(5);
    server.bind_http_path("/", open()).unwrap();
    server.bind_http_path("/file/:name.json", open()).unwrap();
    server.secure_bind_http_path("/secure").unwrap();
    let ws = |authenticated| WsBindingConfig::new(authenticated, false, false);
    server.bind_ws_path("/", ws(false)).unwrap();
    server.bind_ws_path("/locked", ws(true)).unwrap();
    server.secure_bind_ws_path("/secure-ws").unwrap();
    println!("bound");
    loop {
        let Ok(message) = await_message() else {
            continue;
        };
        match HttpServerRequest::from_bytes(message.body()) {
            Ok(HttpServerRequest::Http(request)) => describe(&request),
            Ok(HttpServerRequest::WebSocketOpen { path, .. }) => println!("open {path}"),
            _ => {}
        }
    }
}

/// Binds the empty path and says what came of it.
pub fn empty_binder() {
    let mut server = HttpServer::new(5);
    let bound = server.bind_http_path("", open());
    println!("bound {bound:?}");
    loop {
        let Ok(message) = await_message() else {
            continue;
        };
        if let Ok(HttpServerRequest::Http(request)) = HttpServerRequest::from_bytes(message.body())
        {
            describe(&request);
        }
    }
}
