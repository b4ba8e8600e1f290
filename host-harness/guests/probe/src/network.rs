//! Processes for the harness's tests of messages between nodes. `relay`
//! does what each request's JSON body asks (send somewhere, attach
//! capabilities, sign, verify, ask `net`, send a blob of a given size)
//! and answers what came of it;
//! `inbox` prints everything about each message it gets and answers
//! requests that expect an answer (and bodies marked `fwd`, passed on
//! with `inherit`) with `inbox:<body>`, passing the blob back.

use crate::process_lib::{
    await_message, last_blob, println, timer, Address, Capability, Message, Request, Response,
};
use crate::text;

/// Prints what arrives, in full, and answers requests.
pub fn inbox() {
    loop {
        match await_message() {
            Ok(message) => {
                let blob = last_blob().map(|b| text(&b.bytes));
                let caps: Vec<String> = message
                    .capabilities()
                    .iter()
                    .map(|c| c.issuer().to_string())
                    .collect();
                let kind = if message.is_request() {
                    "request"
                } else {
                    "response"
                };
                println!(
                    "inbox got {kind} {} from {} blob {blob:?} caps {caps:?}",
                    text(message.body()),
                    message.source(),
                );
                // A request passed on with `inherit` expects no response
                // itself, but its asker does: bodies marked `fwd` say so.
                let expects = matches!(
                    &message,
                    Message::Request {
                        expects_response: Some(_),
                        ..
                    }
                ) || (message.is_request()
                    && text(message.body()).starts_with("fwd"));
                if expects {
                    Response::new()
                        .inherit(true)
                        .body(format!("inbox:{}", text(message.body())))
                        .send()
                        .unwrap();
                }
            }
            Err(e) => println!("inbox error {:?}", e.kind()),
        }
    }
}

/// Does what each request asks, and answers what came of it.
pub fn relay(our: &Address) {
    loop {
        let Ok(message) = await_message() else {
            continue;
        };
        if !message.is_request() {
            continue;
        }
        let command: serde_json::Value = serde_json::from_slice(message.body()).unwrap_or_default();
        let answer = run(our, &command);
        if command["forward"].as_bool() != Some(true) {
            Response::new().body(answer).send().unwrap();
        }
    }
}

fn address(text: &str) -> Address {
    text.parse()
        .unwrap_or_else(|_| panic!("relay: `{text}` is not an address"))
}

fn run(our: &Address, command: &serde_json::Value) -> String {
    let str_of = |key: &str| command[key].as_str().unwrap_or_default().to_string();
    if command["peers"].as_bool() == Some(true) {
        return peers();
    }
    if let Some(node) = command["peer"].as_str() {
        return peer(node);
    }
    if let Some(node) = command["get_peers_of"].as_str() {
        // Asks another node's net, which answers no NetAction from afar.
        let body = rmp_serde::to_vec(&crate::process_lib::net::NetAction::GetPeers).unwrap();
        let target = Address::new(node, ("net", "distro", "sys"));
        return match Request::to(target)
            .body(body)
            .send_and_await_response(5)
            .unwrap()
        {
            Ok(reply) => format!("answer {}", text(reply.body())),
            Err(e) => format!("error {:?}", e.kind()).to_lowercase(),
        };
    }
    if let Some(message) = command["sign"].as_str() {
        let signature = crate::process_lib::net::sign(message.as_bytes().to_vec()).unwrap();
        let verify = serde_json::json!({
            "verify": message, "from": our.to_string(), "signature": signature,
        });
        return ask(
            &address(&str_of("to")),
            &verify.to_string(),
            None,
            vec![],
            5,
        );
    }
    if let Some(message) = command["verify"].as_str() {
        let from = address(&str_of("from"));
        let signature: Vec<u8> = serde_json::from_value(command["signature"].clone()).unwrap();
        let good = crate::process_lib::net::verify(
            from.clone(),
            message.as_bytes().to_vec(),
            signature.clone(),
        );
        let tampered = crate::process_lib::net::verify(from, b"tampered".to_vec(), signature);
        return format!("verified {:?} tampered {:?}", good.ok(), tampered.ok());
    }
    let to = address(&str_of("to"));
    let body = str_of("body");
    // `blob_bytes`: a blob of that many bytes, for the size limit.
    let blob = command["blob"].as_str().map(str::to_string).or_else(|| {
        command["blob_bytes"]
            .as_u64()
            .map(|n| "x".repeat(n as usize))
    });
    let caps: Vec<Capability> = command["attach"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str())
        .map(|a| Capability::new(address(a), "\"messaging\""))
        .collect();
    if command["forward"].as_bool() == Some(true) {
        // Passes the request on: whoever answers answers our asker.
        Request::to(to).inherit(true).body(body).send().unwrap();
        return String::new();
    }
    match command["timeout"].as_u64() {
        Some(timeout) => ask(&to, &body, blob, caps, timeout),
        None => {
            let count = command["count"].as_u64().unwrap_or(1);
            for n in 1..=count {
                let mut request = Request::to(to.clone())
                    .body(format!("{body}{n}"))
                    .capabilities(caps.clone());
                if let Some(blob) = &blob {
                    request = request.blob_bytes(blob.clone());
                }
                request.send().unwrap();
            }
            format!("sent {count}")
        }
    }
}

/// Sends and awaits: `answer <body> blob <blob>` or `error <kind>`.
fn ask(
    to: &Address,
    body: &str,
    blob: Option<String>,
    caps: Vec<Capability>,
    timeout: u64,
) -> String {
    let mut request = Request::to(to.clone()).body(body).capabilities(caps);
    if let Some(blob) = blob {
        request = request.blob_bytes(blob);
    }
    match request.send_and_await_response(timeout).unwrap() {
        Ok(reply) => format!(
            "answer {} blob {}",
            text(reply.body()),
            last_blob().map_or("-".to_string(), |b| text(&b.bytes))
        ),
        Err(e) => format!("error {:?}", e.kind()).to_lowercase(),
    }
}

fn net(action: &crate::process_lib::net::NetAction) -> crate::process_lib::net::NetResponse {
    let our_net = Address::new("our", ("net", "distro", "sys"));
    let response = Request::to(our_net)
        .body(rmp_serde::to_vec(action).unwrap())
        .send_and_await_response(5)
        .unwrap()
        .unwrap();
    rmp_serde::from_slice(response.body()).unwrap()
}

fn peers() -> String {
    use crate::process_lib::net::{NetAction, NetResponse};
    match net(&NetAction::GetPeers) {
        NetResponse::Peers(peers) => {
            let mut names: Vec<String> = peers.into_iter().map(|p| p.name).collect();
            names.sort();
            format!("peers {}", names.join(","))
        }
        other => format!("unexpected {other:?}"),
    }
}

fn peer(node: &str) -> String {
    use crate::process_lib::net::{NetAction, NetResponse};
    match net(&NetAction::GetPeer(node.to_string())) {
        NetResponse::Peer(Some(identity)) => {
            format!("peer {} {}", identity.name, identity.networking_key)
        }
        NetResponse::Peer(None) => "peer none".into(),
        other => format!("unexpected {other:?}"),
    }
}

/// The planted bug's server: a ledger that must be opened before it is
/// written, and keeps "opened" only in memory. A restart of its node
/// between `open` and `write` loses it, and the write is refused.
pub fn ledger() {
    let mut opened = false;
    loop {
        let Ok(message) = await_message() else {
            continue;
        };
        if !message.is_request() || message.source().process() == "kernel" {
            continue;
        }
        match text(message.body()).as_str() {
            "open" => {
                opened = true;
                println!("ledger opened");
            }
            "write" => {
                let answer = if opened {
                    "written"
                } else {
                    "refused: not open"
                };
                println!("ledger {answer}");
                Response::new().body(answer).send().unwrap();
            }
            other => println!("ledger ignores {other}"),
        }
    }
}

/// The planted bug's client: asked with a node's name, it opens that
/// node's ledger, waits a second, writes, and answers what came of it.
pub fn clerk() {
    loop {
        let Ok(message) = await_message() else {
            continue;
        };
        if !message.is_request() || message.source().process() == "kernel" {
            continue;
        }
        let node = text(message.body());
        let ledger = Address::new(node.as_str(), ("ledger", "probe", "test.os"));
        Request::to(ledger.clone()).body("open").send().unwrap();
        timer::set_and_await_timer(1000).unwrap();
        let answer = match Request::to(ledger)
            .body("write")
            .send_and_await_response(5)
            .unwrap()
        {
            Ok(reply) => text(reply.body()),
            Err(e) => format!("error {:?}", e.kind()).to_lowercase(),
        };
        println!("clerk: {answer}");
        Response::new().body(answer).send().unwrap();
    }
}
