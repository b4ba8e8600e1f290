//! The local HTTP server, driven by a real HTTP client: a process binds
//! paths with the SDK and answers what arrives, as on a node.

use std::io::{Read, Write};
use std::time::Duration;

use crate::common::*;
use host_harness::report::{DiagnosticKind, Level};
use host_harness::{HttpAnswer, RunOptions, Session};

/// One HTTP/1.1 request over a fresh connection: (status, headers, body).
fn http(port: u16, method: &str, path: &str, extra: &str, body: &str) -> (u16, String, String) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn bound_paths_answer_real_http_requests() {
    let dir = probe_package(&[probe("web-server")
        .requests(&["http-server:distro:sys"])
        .grants(&["http-server:distro:sys"])]);
    let session = Session::start(&RunOptions::new(&dir)).await.unwrap();
    assert!(
        session.settle(Duration::from_secs(20)).await,
        "binds, then waits"
    );
    let port = session
        .http_port()
        .expect("the server started with the first bind");
    let cookie = session.http_cookie().unwrap();
    let base = "/web-server:probe:test.os";
    let client = tokio::task::spawn_blocking(move || {
        let hello = http(port, "GET", &format!("{base}/hello/world?q=1"), "", "");
        let posted = http(port, "POST", &format!("{base}/hello/you"), "", "data");
        let fixed = http(port, "GET", &format!("{base}/static"), "", "");
        let locked = http(port, "GET", &format!("{base}/secret"), "", "");
        let opened = http(
            port,
            "GET",
            &format!("{base}/secret"),
            &format!("Cookie: {cookie}\r\n"),
            "",
        );
        let missing = http(port, "GET", "/nobody:here:x.os/x", "", "");
        (hello, posted, fixed, locked, opened, missing)
    });
    let (hello, posted, fixed, locked, opened, missing) = client.await.unwrap();
    assert_eq!(hello.0, 201);
    assert_eq!(
        hello.2,
        "GET /web-server:probe:test.os/hello/:name name=Some(\"world\") q=Some(\"1\") body="
    );
    assert!(hello.1.contains("x-probe: yes"), "{}", hello.1);
    assert!(
        posted.2.ends_with("name=Some(\"you\") q=None body=data"),
        "{}",
        posted.2
    );
    assert_eq!((fixed.0, fixed.2.as_str()), (200, "static bytes"));
    assert!(fixed.1.contains("content-type: text/plain"));
    // No cookie: the node answers 200 with its login page.
    assert_eq!(locked.0, 200);
    assert!(locked.2.contains("authenticated"), "{}", locked.2);
    assert_eq!(opened.0, 201);
    assert_eq!(missing.0, 404);

    let report = session.finish(true).await;
    let server = report.http_server.as_ref().unwrap();
    assert_eq!(server.port, port);
    let mut bound: Vec<&str> = server.bindings.iter().map(|b| b.path.as_str()).collect();
    bound.sort();
    assert_eq!(
        bound,
        [
            "/web-server:probe:test.os/hello/:name",
            "/web-server:probe:test.os/secret",
            "/web-server:probe:test.os/static"
        ]
    );
    let statuses: Vec<u16> = report.http_served.iter().map(|s| s.status).collect();
    assert_eq!(statuses, [201, 201, 200, 200, 201, 404]);
    assert_eq!(
        prints_of(&report, "web-server:probe:test.os").len(),
        4,
        "bound + 3 served"
    );
}

/// A real WebSocket client against a bound WebSocket path, under both
/// runtimes: the process hears the channel open, each frame, and the
/// close; its pushes reach the client; without the cookie the node's 404.
#[tokio::test(flavor = "multi_thread")]
async fn websocket_bindings_carry_frames_both_ways() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message as Frame;

    let ws = || {
        probe("ws-server")
            .requests(&["http-server:distro:sys"])
            .grants(&["http-server:distro:sys"])
    };
    for dir in [probe_package(&[ws()]), hyperware_probe_package(&[ws()])] {
        let session = Session::start(&RunOptions::new(&dir)).await.unwrap();
        assert!(session.settle(Duration::from_secs(20)).await);
        let port = session.http_port().unwrap();
        let url = format!("ws://127.0.0.1:{port}/ws-server:probe:test.os/ws");

        let refused = tokio_tungstenite::connect_async(url.as_str()).await;
        let status = match refused {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status(),
            other => panic!("connected without the cookie: {:?}", other.map(|_| ())),
        };
        assert_eq!(status, 404);

        let mut request = url.as_str().into_client_request().unwrap();
        let cookie = session.http_cookie().unwrap();
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let next = |frame: Option<Result<Frame, _>>| match frame {
            Some(Ok(Frame::Text(text))) => text.to_string(),
            other => panic!("expected a text frame, got {other:?}"),
        };
        assert_eq!(next(socket.next().await), "hello");
        socket.send(Frame::text("abc")).await.unwrap();
        assert_eq!(next(socket.next().await), "ABC");
        socket.close(None).await.unwrap();
        while socket.next().await.is_some() {}
        assert!(session.settle(Duration::from_secs(20)).await);
        let report = session.finish(true).await;
        assert_eq!(
            prints_of(&report, "ws-server:probe:test.os"),
            [
                "bound",
                "open /ws",
                "push Text abc",
                "push Close ",
                "closed"
            ],
            "{}",
            report.runtime
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_past_the_host_memory_limit_is_refused_with_413() {
    let dir = probe_package(&[probe("web-server")
        .requests(&["http-server:distro:sys"])
        .grants(&["http-server:distro:sys"])]);
    let mut options = RunOptions::new(&dir);
    options.host_memory_limit = 1 << 20;
    let session = Session::start(&options).await.unwrap();
    assert!(session.settle(Duration::from_secs(20)).await);
    let port = session.http_port().unwrap();
    let path = "/web-server:probe:test.os/hello/you";
    let (small, big) = tokio::task::spawn_blocking(move || {
        let small = http(port, "POST", path, "", &"x".repeat(1000));
        let big = http(port, "POST", path, "", &"x".repeat(2 << 20));
        (small.0, big.0)
    })
    .await
    .unwrap();
    assert_eq!((small, big), (201, 413));
    session.finish(true).await;
}

// ---- Finer points, on virtual time: a 15 s timeout costs nothing, and
// every request goes to the server in memory. ----

const HTTP: [&str; 1] = ["http-server:distro:sys"];

/// A session on virtual time of the probe package with `processes`, each
/// free to message http-server, settled after they bound their paths.
async fn simulated(processes: &[&'static str]) -> Session {
    let probes: Vec<Probe> = processes
        .iter()
        .map(|name| probe(name).requests(&HTTP).grants(&HTTP))
        .collect();
    let mut options = RunOptions::new(probe_package(&probes));
    options.virtual_time = true;
    options.seed = Some(1);
    let session = Session::start(&options).await.unwrap();
    assert!(session.settle(Duration::from_secs(60)).await);
    session
}

/// A GET with these headers: (status, the answer).
async fn get(session: &Session, path: &str, headers: &[(&str, &str)]) -> HttpAnswer {
    session
        .http_request("fake.os", "GET", path, headers, vec![])
        .await
        .unwrap()
}

fn text(answer: &HttpAnswer) -> String {
    String::from_utf8_lossy(&answer.body).into_owned()
}

/// A WebSocket handshake to `path` in memory: the channel, or the HTTP
/// answer that refused it.
async fn websocket(
    session: &Session,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<tokio_tungstenite::WebSocketStream<Box<dyn host_harness::HttpStream>>, (u16, String)> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://localhost{path}")
        .into_client_request()
        .unwrap();
    for (name, value) in headers {
        let name: tokio_tungstenite::tungstenite::http::HeaderName = name.parse().unwrap();
        request.headers_mut().insert(name, value.parse().unwrap());
    }
    let stream = session.http_connect("fake.os").await.unwrap();
    match tokio_tungstenite::client_async(request, stream).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let body = response.body().clone().unwrap_or_default();
            Err((
                response.status().as_u16(),
                String::from_utf8_lossy(&body).into_owned(),
            ))
        }
        Err(e) => panic!("the handshake broke: {e}"),
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn closing_its_own_websocket_hangs_http_server_as_on_a_node() {
    use futures_util::StreamExt;
    let session = simulated(&["ws-closer"]).await;
    let mut socket = websocket(&session, "/ws-closer:probe:test.os/ws", &[])
        .await
        .unwrap();
    // The process closes the channel: the close frame comes, the client
    // answers it, and the connection ends.
    while let Some(Ok(_)) = socket.next().await {}
    assert!(session.settle(Duration::from_secs(60)).await);
    // The process still gets the request, but its answer is never handled.
    let hello = get(&session, "/ws-closer:probe:test.os/hello", &[]).await;
    assert_eq!(hello.status, 408);
    // Its bind after the close was never acted on.
    let later = get(&session, "/ws-closer:probe:test.os/later", &[]).await;
    assert_eq!(later.status, 404);
    let report = session.finish(true).await;
    assert_eq!(
        prints_of(&report, "ws-closer:probe:test.os"),
        [
            "bound",
            "open /ws",
            "push Close",
            "later Err(Timeout)",
            "http GET /ws-closer:probe:test.os/hello name=None upgrade=false"
        ],
        "no WebSocketClose: {}",
        report.runtime
    );
    let hung: Vec<_> = report
        .diagnostics_of(DiagnosticKind::HttpServerDeadlock)
        .collect();
    assert_eq!(hung.len(), 1, "{:?}", report.diagnostics);
    assert_eq!(hung[0].level, Level::Error);
    assert!(hung[0].message.contains("deadlocks"), "{}", hung[0].message);
    assert!(hung[0]
        .hint
        .as_ref()
        .unwrap()
        .contains("let the client close"));
    assert!(report
        .check_failures()
        .iter()
        .any(|f| f.contains("hung the node's http-server")));
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_websocket_path_does_not_fall_back_to_the_processes_root() {
    let session = simulated(&["web-router"]).await;
    // `/` is bound for WebSockets, `/other` is not: on a node the upgrade
    // finds no binding and goes on as HTTP, to the `/` HTTP binding.
    let refused = websocket(&session, "/web-router:probe:test.os/other", &[]).await;
    let Err((status, body)) = refused else {
        panic!("a WebSocket opened on an unbound path");
    };
    assert_eq!(
        (status, body.as_str()),
        (
            200,
            "http GET /web-router:probe:test.os name=None upgrade=true"
        )
    );
    assert!(websocket(&session, "/web-router:probe:test.os", &[])
        .await
        .is_ok());
    assert!(session.settle(Duration::from_secs(60)).await);
    let report = session.finish(true).await;
    let prints = prints_of(&report, "web-router:probe:test.os");
    assert_eq!(prints.iter().filter(|p| p.starts_with("open")).count(), 1);
    assert!(prints.contains(&"open /".to_string()), "{prints:?}");
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_refused_websocket_upgrade_is_an_ordinary_http_request() {
    let session = simulated(&["web-router", "web-server"]).await;
    // `/locked` wants the login cookie: refused, it is routed as HTTP and
    // reaches the process through its `/` binding.
    let refused = websocket(&session, "/web-router:probe:test.os/locked", &[]).await;
    assert_eq!(
        refused.err(),
        Some((
            200,
            "http GET /web-router:probe:test.os name=None upgrade=true".to_string()
        ))
    );
    let cookie = session.http_cookie().unwrap();
    let opened = websocket(
        &session,
        "/web-router:probe:test.os/locked",
        &[("cookie", &cookie)],
    )
    .await;
    assert!(opened.is_ok());
    // No WebSocket binding at an authenticated HTTP path: its login page.
    let refused = websocket(&session, "/web-server:probe:test.os/secret", &[]).await;
    let (status, page) = refused.err().unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("<form"), "{page}");
    // Nothing bound at all: 404.
    let refused = websocket(&session, "/nobody:here:x.os/ws", &[]).await;
    assert_eq!(refused.err().map(|e| e.0), Some(404));
    session.finish(true).await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn patterns_split_at_dots_as_the_nodes_router_does() {
    let session = simulated(&["web-router"]).await;
    let json = get(&session, "/web-router:probe:test.os/file/a.json", &[]).await;
    assert_eq!(
        text(&json),
        "http GET /web-router:probe:test.os/file/:name.json name=Some(\"a\") upgrade=false"
    );
    // `:name.json` wants `.json`: `a.txt` falls back to the root.
    let txt = get(&session, "/web-router:probe:test.os/file/a.txt", &[]).await;
    assert_eq!(
        text(&txt),
        "http GET /web-router:probe:test.os name=None upgrade=false"
    );
    session.finish(true).await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn an_empty_path_is_bound_where_no_request_reaches_it() {
    let session = simulated(&["empty-binder"]).await;
    for path in [
        "/empty-binder:probe:test.os",
        "/empty-binder:probe:test.os/",
    ] {
        assert_eq!(get(&session, path, &[]).await.status, 404, "{path}");
    }
    // Only a path ending in `//` keeps a `/` once the node drops one.
    let doubled = get(&session, "/empty-binder:probe:test.os//", &[]).await;
    assert_eq!(doubled.status, 200);
    let report = session.finish(true).await;
    assert_eq!(
        prints_of(&report, "empty-binder:probe:test.os")[0],
        "bound Ok(())"
    );
    let server = report.http_server.as_ref().unwrap();
    assert_eq!(server.bindings[0].path, "/empty-binder:probe:test.os/");
    let unreachable: Vec<_> = report
        .diagnostics_of(DiagnosticKind::UnreachablePath)
        .collect();
    assert_eq!(unreachable.len(), 1, "{:?}", report.diagnostics);
    assert_eq!(unreachable[0].level, Level::Warning);
    assert!(unreachable[0].hint.as_ref().unwrap().contains("bind \"/\""));
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn secure_bindings_want_their_subdomain_and_the_apps_own_cookie() {
    let session = simulated(&["web-router"]).await;
    let path = "/web-router:probe:test.os/secure";
    let process = host_harness::ProcessId::parse("web-router:probe:test.os").unwrap();
    let app_cookie = session.http_app_cookie_of("fake.os", &process).unwrap();
    assert!(app_cookie.starts_with("kinode-auth_fake.os@web-router:probe:test.os="));
    let node_cookie = session.http_cookie().unwrap();
    let subdomain = "probe-test-os.localhost";

    // From another host: 307 to the app's subdomain, path and query kept.
    let moved = get(&session, &format!("{path}?x=1"), &[("cookie", &app_cookie)]).await;
    assert_eq!(moved.status, 307);
    assert_eq!(
        moved.header("location"),
        Some("http://probe-test-os.localhost:0/web-router:probe:test.os/secure?x=1")
    );
    // On the subdomain, the node's cookie is not the app's: the login page.
    let page = get(
        &session,
        path,
        &[("host", subdomain), ("cookie", &node_cookie)],
    )
    .await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), None, "a node sends none");
    assert!(text(&page).contains("<form"));
    let served = get(
        &session,
        path,
        &[("host", subdomain), ("cookie", &app_cookie)],
    )
    .await;
    assert_eq!(
        (served.status, text(&served).as_str()),
        (
            200,
            "http GET /web-router:probe:test.os/secure name=None upgrade=false"
        )
    );

    // A login for the app sets the same cookie.
    let login = session
        .http_request(
            "fake.os",
            "POST",
            "/login",
            &[],
            br#"{"password_hash": "0x00", "subdomain": "web-router:probe:test.os"}"#.to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(login.status, 200);
    assert_eq!(
        login.header("set-cookie"),
        Some(format!("{app_cookie};").as_str())
    );

    // A secure WebSocket wants the subdomain too; refused, it is HTTP.
    let ws = "/web-router:probe:test.os/secure-ws";
    let refused = websocket(&session, ws, &[("cookie", &app_cookie)]).await;
    assert_eq!(refused.err().map(|e| e.0), Some(200));
    let opened = websocket(
        &session,
        ws,
        &[("host", subdomain), ("cookie", &app_cookie)],
    )
    .await;
    assert!(opened.is_ok());
    assert!(session.settle(Duration::from_secs(60)).await);
    let report = session.finish(true).await;
    assert!(prints_of(&report, "web-router:probe:test.os").contains(&"open /secure-ws".into()));
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn login_serves_its_page_and_sets_the_nodes_cookie_for_any_password() {
    let session = simulated(&["web-server"]).await;
    let page = get(&session, "/login", &[]).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(text(&page).contains("<form"));

    let post = |body: &'static str, path: &'static str| {
        session.http_request("fake.os", "POST", path, &[], body.as_bytes().to_vec())
    };
    let login = post(r#"{"password_hash": "anything"}"#, "/login")
        .await
        .unwrap();
    assert_eq!(login.status, 200);
    let cookie = login
        .header("set-cookie")
        .unwrap()
        .trim_end_matches(';')
        .to_string();
    assert_eq!(Some(cookie.clone()), session.http_cookie());
    let opened = get(
        &session,
        "/web-server:probe:test.os/secret",
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(opened.status, 201);

    let redirected = post(
        r#"{"password_hash": "x"}"#,
        "/login?redirect=/web-server:probe:test.os/secret",
    )
    .await
    .unwrap();
    assert_eq!(redirected.status, 303);
    assert_eq!(
        redirected.header("location"),
        Some("http://localhost:0/web-server:probe:test.os/secret")
    );
    let malformed = post("not json", "/login").await.unwrap();
    assert_eq!(
        (malformed.status, text(&malformed).as_str()),
        (400, "\"Failed to parse login info\"")
    );
    session.finish(true).await;
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn kits_inject_message_reaches_a_process_and_brings_back_its_response() {
    let session = simulated(&["web-server", "echo"]).await;
    let rpc = |body: &'static str| {
        session.http_request(
            "fake.os",
            "POST",
            "/rpc:distro:sys/message",
            &[],
            body.as_bytes().to_vec(),
        )
    };
    let asked = rpc(
        r#"{"process": "echo:probe:test.os", "body": "hi", "expects_response": 5,
                        "mime": "text/plain", "data": "YjE="}"#,
    )
    .await
    .unwrap();
    assert_eq!(asked.status, 200);
    assert_eq!(asked.header("content-type"), Some("text/html"));
    let answer: serde_json::Value = serde_json::from_slice(&asked.body).unwrap();
    assert_eq!(answer["body"], serde_json::json!(b"echo:hi".to_vec()));
    // The blob the echo passed back, its bytes in base64 ("YjE=" again).
    assert_eq!(answer["lazy_load_blob"]["mime"], "text/plain");
    assert_eq!(
        answer["lazy_load_blob"]["bytes"],
        serde_json::json!(b"YjE=".to_vec())
    );
    let sent = rpc(r#"{"process": "echo:probe:test.os", "body": "ff"}"#)
        .await
        .unwrap();
    assert_eq!((sent.status, sent.body.len()), (200, 0), "answered at once");
    let malformed = rpc(r#"{"process": "echo"}"#).await.unwrap();
    assert_eq!(malformed.status, 400);
    assert!(session.settle(Duration::from_secs(60)).await);
    let report = session.finish(true).await;
    assert_eq!(
        prints_of(&report, "echo:probe:test.os"),
        [
            "echo got hi from fake.os@http-server:distro:sys",
            "echo got ff from fake.os@http-server:distro:sys"
        ]
    );
}
