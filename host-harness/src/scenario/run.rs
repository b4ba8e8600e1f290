//! Runs one scenario: a copy of the package with the scenario's manifest
//! changes, a fresh node home seeded with its files and state, its HTTP
//! mocks; then its steps, in order, each `send` and `http` followed by the
//! run settling. A failed expectation says what was expected, what
//! happened, and the prints and diagnostics that explain it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bindings::{Address, Capability, LazyLoadBlob, Message, ProcessId, Request};
use crate::kernel::message::KernelMessage;
use crate::modules::Answers;
use crate::report::Report;
use crate::{RunOptions, Session};

use super::format::{Expect, Http, ManifestChange, Scenario, Send, Step, Wait};
use super::ScenarioResult;

/// The process scenarios send from: public, and given messaging to each
/// process it sends to.
fn driver_id() -> ProcessId {
    ProcessId::new("driver", "host-harness", "sys")
}

/// What the steps so far left to assert on.
#[derive(Default)]
struct Seen {
    response: Option<String>,
    http: Option<(u16, String)>,
}

pub async fn run(
    package_dir: &Path,
    scenario: &Scenario,
    name: String,
    file: PathBuf,
) -> ScenarioResult {
    let started = Instant::now();
    let work = super::work_dir(&name);
    let mut result = ScenarioResult {
        name,
        file,
        failures: vec![],
        duration: Duration::ZERO,
        report: None,
    };
    match prepare(package_dir, &work, scenario) {
        Ok(()) => {
            let (failures, report) = drive(&work, scenario).await;
            result.failures = failures;
            result.report = report;
        }
        Err(e) => result.failures.push(e),
    }
    let _ = std::fs::remove_dir_all(&work);
    result.duration = started.elapsed();
    result
}

/// Copies the package into `work` with the manifest changes, and seeds
/// the home.
fn prepare(package_dir: &Path, work: &Path, scenario: &Scenario) -> Result<(), String> {
    let copy = |from: &Path, to: &Path| {
        std::fs::copy(from, to).map_err(|e| format!("{}: cannot copy: {e}", from.display()))
    };
    std::fs::create_dir_all(work).map_err(|e| format!("{}: {e}", work.display()))?;
    copy(
        &package_dir.join("metadata.json"),
        &work.join("metadata.json"),
    )?;
    crate::node::home::copy_dir(&package_dir.join("pkg"), &work.join("pkg"))
        .map_err(|e| e.to_string())?;
    let manifest_path = work.join("pkg/manifest.json");
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    let mut manifest: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("pkg/manifest.json: {e}"))?;
    for change in &scenario.manifest {
        apply(&mut manifest, change)?;
    }
    std::fs::write(&manifest_path, manifest.to_string()).map_err(|e| e.to_string())?;
    let home = work.join("home");
    for seed in &scenario.file {
        let path = home.join(&seed.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&path, &seed.content).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    for (process, state) in &scenario.state {
        ProcessId::parse(process).map_err(|e| format!("state: {e}"))?;
        std::fs::create_dir_all(home.join("state")).map_err(|e| e.to_string())?;
        std::fs::write(home.join("state").join(process), state).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn apply(manifest: &mut serde_json::Value, change: &ManifestChange) -> Result<(), String> {
    let entry = manifest
        .as_array_mut()
        .and_then(|entries| {
            entries
                .iter_mut()
                .find(|e| e["process_name"] == change.process.as_str())
        })
        .ok_or_else(|| format!("manifest: no process `{}` to change", change.process))?;
    let names = |value: &serde_json::Value| -> String {
        value
            .as_str()
            .or_else(|| value["process"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    for (field, add, remove) in [
        (
            "request_capabilities",
            &change.add_request,
            &change.remove_request,
        ),
        (
            "grant_capabilities",
            &change.add_grant,
            &change.remove_grant,
        ),
    ] {
        let list = entry[field]
            .as_array_mut()
            .ok_or(format!("manifest: {field} is not a list"))?;
        list.retain(|cap| !remove.contains(&names(cap)));
        list.extend(add.iter().cloned());
    }
    if let Some(public) = change.public {
        entry["public"] = public.into();
    }
    if let Some(on_exit) = &change.on_exit {
        entry["on_exit"] = on_exit.clone();
    }
    Ok(())
}

async fn drive(work: &Path, scenario: &Scenario) -> (Vec<String>, Option<Report>) {
    let seconds = scenario.timeout.filter(|t| t.is_finite()).unwrap_or(10.0);
    let timeout = Duration::from_secs_f64(seconds.clamp(0.01, 86_400.0));
    let mut options = RunOptions::new(work);
    options.node = scenario.node.clone().unwrap_or_else(|| "fake.os".into());
    options.timeout = timeout;
    options.http_mocks = scenario.http_mock.clone();
    options.home = Some(work.join("home"));
    let session = match Session::start(&options).await {
        Ok(session) => session,
        Err(e) => return (vec![e.to_string()], None),
    };
    let driver = Answers::default();
    session
        .node()
        .add_native(driver_id(), true, Arc::new(driver.clone()));
    session.settle(timeout).await;
    let mut failures = Vec::new();
    let mut seen = Seen::default();
    for (index, step) in scenario.step.iter().enumerate() {
        let outcome = match step {
            Step::Send(send) => send_step(&session, &driver, send, timeout, &mut seen).await,
            Step::Http(http) => http_step(&session, http, &mut seen).await,
            Step::Wait(wait) => wait_step(&session, wait, timeout).await,
            Step::Expect(expect) => {
                let report = session.node().peek(Report::clone);
                let failed = check(&session, &report, expect, &seen);
                if failed.is_empty() {
                    Ok(())
                } else {
                    Err(failed.join("\n"))
                }
            }
        };
        if matches!(step, Step::Send(_) | Step::Http(_)) {
            session.settle(timeout).await;
        }
        if let Err(e) = outcome {
            let report = session.node().peek(Report::clone);
            failures.push(format!("step {}: {e}{}", index + 1, trace(&report)));
        }
    }
    let idle = session.settle(timeout).await;
    (failures, Some(session.finish(idle).await))
}

async fn send_step(
    session: &Session,
    driver: &Answers,
    send: &Send,
    timeout: Duration,
    seen: &mut Seen,
) -> Result<(), String> {
    let port = session.port();
    let node = port.node().to_string();
    let to = ProcessId::parse(&send.to)?;
    let from = match &send.from {
        Some(from) => ProcessId::parse(from)?,
        None => {
            let me = driver_id();
            let cap = Capability::messaging(Address::new(&node, to.clone()));
            port.kernel(|k| k.grant_capabilities(&me, vec![cap]));
            me
        }
    };
    let body = match (&send.json, &send.body) {
        (Some(json), _) => json.to_string().into_bytes(),
        (None, Some(text)) => text.clone().into_bytes(),
        (None, None) => vec![],
    };
    let id: u64 = rand::random();
    let answered = send
        .expects_response
        .filter(|_| from == driver_id())
        .map(|_| driver.expect(id));
    port.send(KernelMessage {
        id,
        source: Address::new(&node, from),
        target: Address::new(&node, to),
        rsvp: None,
        message: Message::Request(Request {
            inherit: false,
            expects_response: send.expects_response,
            body,
            metadata: None,
            capabilities: vec![],
        }),
        blob: send.blob.as_ref().map(|text| LazyLoadBlob {
            mime: None,
            bytes: text.clone().into_bytes(),
        }),
    });
    if let (Some(answered), Some(seconds)) = (answered, send.expects_response) {
        let limit = Duration::from_secs(seconds).min(timeout);
        let answer = tokio::time::timeout(limit, answered).await;
        driver.forget(id);
        seen.response = match answer {
            Ok(Ok(body)) => Some(String::from_utf8_lossy(&body).into_owned()),
            _ => {
                return Err(format!(
                    "no response to the request to {} within {limit:?}",
                    send.to
                ))
            }
        };
    }
    Ok(())
}

async fn http_step(session: &Session, http: &Http, seen: &mut Seen) -> Result<(), String> {
    let port = session
        .http_port()
        .ok_or("no HTTP server is running: no process has bound a path")?;
    let cookie = if http.cookie {
        session.http_cookie()
    } else {
        None
    };
    let (method, path, body) = (http.method.clone(), http.path.clone(), http.body.clone());
    let answer = tokio::task::spawn_blocking(move || request(port, &method, &path, cookie, &body))
        .await
        .map_err(|e| e.to_string())??;
    seen.http = Some(answer);
    Ok(())
}

/// One HTTP/1.1 request: the status and the body.
fn request(
    port: u16,
    method: &str,
    path: &str,
    cookie: Option<String>,
    body: &str,
) -> Result<(u16, String), String> {
    let mut stream =
        std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let cookie = cookie.map_or(String::new(), |c| format!("Cookie: {c}\r\n"));
    let text = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n{cookie}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(text.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| e.to_string())?;
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .ok_or("a malformed HTTP answer")?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("a malformed HTTP status line")?;
    Ok((status, body.to_string()))
}

async fn wait_step(session: &Session, wait: &Wait, timeout: Duration) -> Result<(), String> {
    if let Some(seconds) = wait.seconds.filter(|s| s.is_finite()) {
        tokio::time::sleep(Duration::from_secs_f64(seconds.clamp(0.0, 86_400.0))).await;
    }
    if wait.idle && !session.settle(timeout).await {
        return Err(format!("still busy after {timeout:?}"));
    }
    let deadline = Instant::now() + timeout;
    loop {
        let report = session.node().peek(Report::clone);
        let printed = wait.print.as_ref().is_none_or(|text| {
            report.prints.iter().any(|p| {
                p.text.contains(text.as_str())
                    && wait.process.as_ref().is_none_or(|w| p.process == *w)
            })
        });
        let exited = wait.exit.as_ref().is_none_or(|id| {
            report
                .process(id)
                .is_some_and(|p| p.exit.kind != crate::report::ExitKind::Running)
        });
        if printed && exited {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("waited {timeout:?} for {wait:?}"));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn check(session: &Session, report: &Report, expect: &Expect, seen: &Seen) -> Vec<String> {
    let mut failed = Vec::new();
    let mut want = |ok: bool, what: String| {
        if !ok {
            failed.push(what);
        }
    };
    if let Some(spawn) = &expect.spawn {
        let found = report.spawns.iter().any(|s| {
            spawn.parent.as_ref().is_none_or(|p| s.parent == *p)
                && spawn.child.as_ref().is_none_or(|c| {
                    s.child
                        .as_deref()
                        .unwrap_or(s.name.as_deref().unwrap_or(""))
                        .contains(c.as_str())
                })
                && spawn.result.as_ref().is_none_or(|r| {
                    serde_json::to_value(s.result).ok() == Some(serde_json::json!(r))
                })
        });
        want(
            found,
            format!(
                "expected a spawn {spawn:?}; spawns were {:?}",
                report.spawns
            ),
        );
    }
    if let Some(cap) = &expect.holds {
        let node = &report.node;
        let params = cap
            .params
            .clone()
            .unwrap_or_else(|| "messaging".into())
            .to_string();
        let wanted = Capability::new(
            Address::new(
                node,
                ProcessId::parse(&cap.issuer).unwrap_or(ProcessId::runtime("?")),
            ),
            params,
        );
        let held: Vec<Capability> = if cap.at_start {
            report
                .process(&cap.process)
                .map(|p| {
                    p.capabilities_at_start
                        .iter()
                        .filter_map(|c| {
                            Some(Capability::new(Address::parse(&c.issuer).ok()?, &c.params))
                        })
                        .collect()
                })
                .unwrap_or_default()
        } else {
            let process = ProcessId::parse(&cap.process).unwrap_or(ProcessId::runtime("?"));
            session.port().kernel(|k| k.caps_of(&process))
        };
        let holds = held.contains(&wanted);
        want(
            holds != cap.not,
            format!(
                "expected {} {}to hold {wanted}; it holds {}",
                cap.process,
                if cap.not { "not " } else { "" },
                held.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    if let Some(print) = &expect.print {
        let found = report.prints.iter().any(|p| {
            p.text.contains(print.contains.as_str())
                && print.process.as_ref().is_none_or(|w| p.process == *w)
        });
        want(
            found,
            format!("expected a print containing {:?}", print.contains),
        );
    }
    if let Some(exit) = &expect.exit {
        let kind = report
            .process(&exit.process)
            .and_then(|p| serde_json::to_value(p.exit.kind).ok());
        want(
            kind == Some(serde_json::json!(exit.kind)),
            format!(
                "expected {} to have exit {}; it has {kind:?}",
                exit.process, exit.kind
            ),
        );
    }
    if let Some(blocked) = &expect.blocked {
        let found = report.blocked_messages.iter().any(|b| {
            blocked
                .from
                .as_ref()
                .is_none_or(|f| b.source.ends_with(&format!("@{f}")))
                && blocked
                    .to
                    .as_ref()
                    .is_none_or(|t| b.target.ends_with(&format!("@{t}")))
        });
        want(
            found != blocked.not,
            format!(
                "expected {}a blocked message {blocked:?}; blocked were {:?}",
                if blocked.not { "no " } else { "" },
                report.blocked_messages
            ),
        );
    }
    if let Some(kind) = &expect.diagnostic {
        let found = report
            .diagnostics
            .iter()
            .any(|d| serde_json::to_value(d.kind).ok() == Some(serde_json::json!(kind)));
        want(found, format!("expected a diagnostic of kind {kind}"));
    }
    if let Some(url) = &expect.http_request {
        let found = report
            .http_requests
            .iter()
            .any(|r| r.url.contains(url.as_str()));
        want(found, format!("expected an http-client request to {url}"));
    }
    if let Some(text) = &expect.response {
        want(
            seen.response
                .as_ref()
                .is_some_and(|r| r.contains(text.as_str())),
            format!(
                "expected the response to contain {text:?}; it was {:?}",
                seen.response
            ),
        );
    }
    if let Some(status) = expect.http_status {
        want(
            seen.http.as_ref().is_some_and(|(s, _)| *s == status),
            format!("expected HTTP status {status}; got {:?}", seen.http),
        );
    }
    if let Some(text) = &expect.http_body {
        want(
            seen.http
                .as_ref()
                .is_some_and(|(_, b)| b.contains(text.as_str())),
            format!(
                "expected the HTTP body to contain {text:?}; got {:?}",
                seen.http
            ),
        );
    }
    if let Some(file) = &expect.file {
        let path = session.node().home().root().join(&file.path);
        let content = std::fs::read_to_string(&path).unwrap_or_default();
        want(
            content.contains(file.contains.as_str()),
            format!("expected {} to contain {:?}", file.path, file.contains),
        );
    }
    if let Some(passes) = expect.passes {
        let failures = report.check_failures();
        want(
            failures.is_empty() == passes,
            format!(
                "expected the run to {}; its failures: {failures:?}",
                if passes { "pass" } else { "fail" }
            ),
        );
    }
    failed
}

/// The part of the run that explains a failure: the last prints and every
/// diagnostic.
fn trace(report: &Report) -> String {
    let mut out = String::new();
    for p in report.prints.iter().rev().take(8).rev() {
        out.push_str(&format!(
            "\n    print [{}] {}",
            p.process,
            p.text.lines().next().unwrap_or("")
        ));
    }
    for d in &report.diagnostics {
        out.push_str(&format!("\n    diagnostic {:?}: {}", d.kind, d.message));
    }
    out
}
