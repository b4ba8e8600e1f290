//! The local HTTP server, driven by a real HTTP client: a process binds
//! paths with the SDK and answers what arrives, as on a node.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::*;
use host_harness::{RunOptions, Session};

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
