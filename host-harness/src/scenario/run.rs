//! Runs one scenario: a copy of the package with the scenario's manifest
//! changes, a fresh node home seeded with its files and state, its HTTP
//! mocks; then its steps, in order, each `send` and `http` followed by the
//! run settling. A failed expectation says what was expected, what
//! happened, and the prints and diagnostics that explain it.

use std::io::{Read, Write};
use std::path::{Component, Path};
use std::time::{Duration, Instant};

use crate::driver::{Driver, NoAnswer, Outgoing};
use crate::report::{ExitKind, Report};
use crate::types::{Address, Capability, PackageId, ProcessId};
use crate::util::{copy_tree, TempDir};
use crate::{RunOptions, Session};

use super::format::{
    Expect, ExpectBlocked, ExpectCap, ExpectExit, ExpectPrint, ExpectSpawn, Http, ManifestChange,
    ProcessRef, Restart, Scenario, Send, Step, Wait,
};
use super::ScenarioResult;

/// The process scenarios send from: public, and given messaging to each
/// process it sends to.
fn driver_id() -> ProcessId {
    ProcessId::new("driver", "host-harness", "sys")
}

pub async fn run(
    package_dir: &Path,
    scenario: &Scenario,
    name: String,
    file: std::path::PathBuf,
) -> ScenarioResult {
    let started = Instant::now();
    let mut result = ScenarioResult {
        name,
        file,
        failures: vec![],
        duration: Duration::ZERO,
        report: None,
    };
    let prepared = TempDir::new("scenario")
        .map_err(|e| format!("cannot make a directory for the scenario: {e}"))
        .and_then(|work| {
            let package = prepare(package_dir, work.path(), scenario)?;
            Ok((work, package))
        });
    match prepared {
        Ok((work, package)) => {
            let (failures, report) = drive(work.path(), scenario, package).await;
            result.failures = failures;
            result.report = report;
        }
        Err(e) => result.failures.push(e),
    }
    result.duration = started.elapsed();
    result
}

/// A path a scenario gives relative to the node home: it must stay inside.
fn inside_home(path: &str) -> Result<&Path, String> {
    let relative = Path::new(path);
    if path.is_empty()
        || !relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
    {
        return Err(format!(
            "`{path}` must be a path inside the node home, e.g. `vfs/app:me.os/data/x.json`"
        ));
    }
    Ok(relative)
}

/// Copies the package into `work` with the manifest changes, and seeds
/// the home; returns the package's id.
fn prepare(package_dir: &Path, work: &Path, scenario: &Scenario) -> Result<PackageId, String> {
    let (metadata, _) = crate::package::load_metadata(package_dir).map_err(|e| e.to_string())?;
    let package = PackageId {
        package_name: metadata.properties.package_name,
        publisher_node: metadata.properties.publisher,
    };
    std::fs::copy(
        package_dir.join("metadata.json"),
        work.join("metadata.json"),
    )
    .map_err(|e| {
        format!(
            "{}: cannot copy: {e}",
            package_dir.join("metadata.json").display()
        )
    })?;
    copy_tree(&package_dir.join("pkg"), &work.join("pkg")).map_err(|e| e.to_string())?;
    let manifest_path = package_dir.join("pkg/manifest.json");
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    let mut manifest: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    for change in &scenario.manifest {
        apply(&mut manifest, change)?;
    }
    let copied = work.join("pkg/manifest.json");
    std::fs::write(&copied, manifest.to_string()).map_err(|e| e.to_string())?;
    let home = work.join("home");
    for seed in &scenario.file {
        let path = home.join(inside_home(&seed.path).map_err(|e| format!("file: {e}"))?);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&path, &seed.content).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    for (process, state) in &scenario.state {
        let id = process.process().resolve(&package);
        std::fs::create_dir_all(home.join("state")).map_err(|e| e.to_string())?;
        std::fs::write(home.join("state").join(id.to_string()), state)
            .map_err(|e| e.to_string())?;
    }
    Ok(package)
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

/// One scenario's run, and what its steps left to assert on.
struct Drive {
    session: Session,
    driver: Driver,
    package: PackageId,
    timeout: Duration,
    response: Option<String>,
    http: Option<(u16, String)>,
}

async fn drive(
    work: &Path,
    scenario: &Scenario,
    package: PackageId,
) -> (Vec<String>, Option<Report>) {
    // `from_toml` checked it; a scenario built in code may not be.
    let timeout =
        Duration::try_from_secs_f64(scenario.timeout()).unwrap_or(Duration::from_secs(10));
    let mut options = RunOptions::new(work);
    options.node = scenario.node.clone().unwrap_or_else(|| "fake.os".into());
    options.timeout = timeout;
    options.http_mocks = scenario.http_mock.clone();
    options.home = Some(work.join("home"));
    options.cpu_limit = scenario.cpu_limit();
    options.allow_blocked = scenario.allow_blocked;
    if let Some(mib) = scenario.memory_limit {
        options.memory_limit = mib << 20;
    }
    let session = match Session::start(&options).await {
        Ok(session) => session,
        Err(e) => {
            // Name the package's own file, not the scenario's copy of it.
            let copy = format!("{}/", work.display());
            let message = e.to_string().replace(&copy, "");
            let changed = if scenario.manifest.is_empty() {
                String::new()
            } else {
                " (with the scenario's [[manifest]] changes)".into()
            };
            return (
                vec![format!("the package does not install{changed}: {message}")],
                None,
            );
        }
    };
    let driver = Driver::install(session.node(), driver_id());
    session.settle(timeout).await;
    let mut run = Drive {
        session,
        driver,
        package,
        timeout,
        response: None,
        http: None,
    };
    let mut failures = Vec::new();
    for (index, step) in scenario.step.iter().enumerate() {
        let outcome = match step {
            Step::Send(send) => run.send(send).await,
            Step::Http(http) => run.http(http).await,
            Step::Wait(wait) => run.wait(wait).await,
            Step::Expect(expect) => run.check(expect),
            Step::Restart(Restart::Process { process }) => run.restart(process),
            Step::Restart(Restart::Node(_)) => match run.reboot(&options).await {
                Ok(next) => {
                    run = next;
                    Ok(())
                }
                Err(e) => {
                    failures.push(format!("step {}: {e}", index + 1));
                    return (failures, None);
                }
            },
        };
        let settled = !matches!(step, Step::Send(_) | Step::Http(_) | Step::Restart(_))
            || run.session.settle(timeout).await;
        let outcome = match (outcome, settled) {
            (Err(e), _) => Err(e),
            // What comes after would wait on the same busy run: stop here.
            (Ok(()), false) => Err(format!(
                "the run did not settle within {timeout:?}: {}; the steps after this one were \
                 not run",
                run.session.node().what_is_busy().join("; ")
            )),
            (Ok(()), true) => Ok(()),
        };
        if let Err(e) = outcome {
            let report = run.session.report_so_far();
            failures.push(format!("step {}: {e}{}", index + 1, trace(&report)));
            if !settled {
                break;
            }
        }
    }
    let idle = run.session.settle(timeout).await;
    (failures, Some(run.session.finish(idle).await))
}

impl Drive {
    /// The node stops (its processes with it) and boots again from the
    /// same home, with the packages installed again, as a node reboots.
    async fn reboot(self, options: &RunOptions) -> Result<Drive, String> {
        let idle = self.session.settle(self.timeout).await;
        self.session.finish(idle).await;
        let session = Session::start(options)
            .await
            .map_err(|e| format!("the node did not boot again: {e}"))?;
        let driver = Driver::install(session.node(), driver_id());
        session.settle(self.timeout).await;
        Ok(Drive {
            session,
            driver,
            response: None,
            http: None,
            ..self
        })
    }

    /// One running process stopped and started again.
    fn restart(&self, process: &ProcessRef) -> Result<(), String> {
        let id = self.id(process);
        if self.session.node().kernel(|k| k.reboot(&id)) {
            return Ok(());
        }
        let report = self.session.report_so_far();
        Err(match report.record(&id) {
            Some(p) => format!(
                "{id} cannot be restarted: it {} (`restart = \"node\"` boots the whole node \
                 again)",
                describe_exit(&p.exit.kind, &p.exit.detail)
            ),
            None => self.unknown(&report, &id),
        })
    }

    fn id(&self, process: &ProcessRef) -> ProcessId {
        process.resolve(&self.package)
    }

    /// Whether `id` was ever a process of this run (a runtime module, or a
    /// process installed or spawned, alive or not).
    fn existed(&self, report: &Report, id: &ProcessId) -> bool {
        report.record(id).is_some() || self.session.node().kernel(|k| k.program(id).is_some())
    }

    /// "no process X in this run", with the processes there are.
    fn unknown(&self, report: &Report, id: &ProcessId) -> String {
        let names: Vec<String> = report.processes.iter().map(|p| p.id.to_string()).collect();
        format!(
            "there is no process {id} in this run (its processes: {})",
            names.join(", ")
        )
    }

    async fn send(&mut self, send: &Send) -> Result<(), String> {
        let to = self.id(&send.to);
        let body = match (&send.json, &send.body) {
            (Some(json), _) => json.to_string().into_bytes(),
            (None, Some(text)) => text.clone().into_bytes(),
            (None, None) => vec![],
        };
        let outgoing = Outgoing {
            to: to.clone(),
            body,
            blob: send.blob.as_ref().map(|text| text.clone().into_bytes()),
            expects_response: send.expects_response,
        };
        if let Some(from) = &send.from {
            self.driver.send_as(self.id(from), outgoing);
            self.response = None;
            return Ok(());
        }
        let messaging = Capability::messaging(self.driver.address(to.clone()));
        self.driver.grant(self.driver.id(), vec![messaging]);
        let limit = Duration::from_secs(send.expects_response.unwrap_or(0)).min(self.timeout);
        // A response that has not come by the time the run is idle never
        // will: say so then rather than at the timeout.
        let ask = self.driver.ask(outgoing, limit);
        tokio::pin!(ask);
        let idle = self
            .session
            .node()
            .watch(limit * 2 + Duration::from_secs(1), |_, idle| {
                idle.then_some(())
            });
        let answer = tokio::select! {
            biased;
            answer = &mut ask => answer,
            _ = idle => match futures_util::FutureExt::now_or_never(&mut ask) {
                Some(answer) => answer,
                None => {
                    let report = self.session.report_so_far();
                    let state = match report.record(&to) {
                        Some(p) => describe_exit(&p.exit.kind, &p.exit.detail),
                        None => self.unknown(&report, &to),
                    };
                    return Err(format!(
                        "no response to the request to {to}, and the run is idle, so none will \
                         come: {to} {state}"
                    ));
                }
            },
        };
        // A send that gets no response leaves none to check.
        self.response = None;
        match answer {
            Ok(body) => {
                self.response = body.map(|body| String::from_utf8_lossy(&body).into_owned());
                Ok(())
            }
            Err(NoAnswer::Refused(kind)) => {
                let report = self.session.report_so_far();
                let why = if self.existed(&report, &to) {
                    String::new()
                } else {
                    format!(": {}", self.unknown(&report, &to))
                };
                Err(format!(
                    "the request to {to} got SendError {kind:?} at once{why}"
                ))
            }
            Err(NoAnswer::TimedOut(limit)) => Err(format!(
                "no response to the request to {to} within {limit:?}"
            )),
        }
    }

    async fn http(&mut self, http: &Http) -> Result<(), String> {
        let port = self
            .session
            .http_port()
            .ok_or("no HTTP server is running: no process has bound a path")?;
        let cookie = if http.cookie {
            self.session.http_cookie()
        } else {
            None
        };
        let (method, path, body) = (http.method.clone(), http.path.clone(), http.body.clone());
        let answer =
            tokio::task::spawn_blocking(move || request(port, &method, &path, cookie, &body))
                .await
                .map_err(|e| e.to_string())??;
        self.http = Some(answer);
        Ok(())
    }

    async fn wait(&self, wait: &Wait) -> Result<(), String> {
        if let Some(seconds) = wait.seconds {
            let wait = Duration::try_from_secs_f64(seconds).unwrap_or_default();
            tokio::time::sleep(wait.min(self.timeout)).await;
        }
        if wait.idle && !self.session.settle(self.timeout).await {
            return Err(format!("still busy after {:?}", self.timeout));
        }
        let from = wait.process.as_ref().map(|p| self.id(p));
        let exit = wait.exit.as_ref().map(|p| self.id(p));
        let what = || {
            let mut parts = Vec::new();
            if let Some(text) = &wait.print {
                let by = from
                    .as_ref()
                    .map_or(String::new(), |p| format!(" from {p}"));
                parts.push(format!("a print containing {text:?}{by}"));
            }
            if let Some(id) = &exit {
                parts.push(format!("{id} to end"));
            }
            parts.join(" and ")
        };
        let outcome = self
            .session
            .node()
            .watch(self.timeout, |report, idle| {
                let printed = wait.print.as_ref().is_none_or(|text| {
                    report.prints.iter().any(|p| {
                        p.text.contains(text.as_str())
                            && from.as_ref().is_none_or(|w| p.process == *w)
                    })
                });
                let ended = exit.as_ref().is_none_or(|id| {
                    report
                        .record(id)
                        .is_some_and(|p| p.exit.kind != ExitKind::Running)
                });
                if printed && ended {
                    return Some(Ok(()));
                }
                // Fail as soon as the wait cannot end well.
                if let Some(id) = from.as_ref().filter(|_| !printed) {
                    match report.record(id) {
                        Some(p) if !matches!(p.exit.kind, ExitKind::Running) => {
                            return Some(Err(format!(
                                "waited for {}, but {id} already ended ({}) without printing it",
                                what(),
                                describe_exit(&p.exit.kind, &p.exit.detail)
                            )))
                        }
                        None if idle => return Some(Err(self.unknown(report, id))),
                        _ => {}
                    }
                }
                idle.then(|| {
                    Err(format!(
                        "waited for {}, but the run is idle: nothing in flight will make it happen",
                        what()
                    ))
                })
            })
            .await;
        outcome.unwrap_or_else(|| Err(format!("waited {:?} for {}", self.timeout, what())))
    }

    fn check(&self, expect: &Expect) -> Result<(), String> {
        let report = self.session.report_so_far();
        let mut failed = Vec::new();
        let mut want = |result: Result<(), String>| {
            if let Err(e) = result {
                failed.push(e);
            }
        };
        if let Some(spawn) = &expect.spawn {
            want(self.spawned(&report, spawn));
        }
        if let Some(cap) = &expect.holds {
            want(self.holds(&report, cap));
        }
        if let Some(print) = &expect.print {
            want(self.printed(&report, print));
        }
        if let Some(exit) = &expect.exit {
            want(self.exited(&report, exit));
        }
        if let Some(blocked) = &expect.blocked {
            want(self.blocked(&report, blocked));
        }
        if let Some(kind) = &expect.diagnostic {
            let found = report.diagnostics.iter().any(|d| d.kind == *kind);
            let kinds: Vec<String> = report.diagnostics.iter().map(|d| wire(&d.kind)).collect();
            want(ok_or(found, || {
                format!(
                    "expected a diagnostic of kind {}; the run has {}",
                    wire(kind),
                    list_or_none(&kinds)
                )
            }));
        }
        if let Some(url) = &expect.http_request {
            let found = report
                .http_requests
                .iter()
                .any(|r| r.url.contains(url.as_str()));
            want(ok_or(found, || {
                format!("expected an http-client request to {url}")
            }));
        }
        if let Some(text) = &expect.response {
            let found = self
                .response
                .as_ref()
                .is_some_and(|r| r.contains(text.as_str()));
            want(ok_or(found, || match &self.response {
                Some(r) => format!("expected the response to contain {text:?}; it was {r:?}"),
                None => format!("expected the response to contain {text:?}; no send got one"),
            }));
        }
        if let Some(status) = expect.http_status {
            want(ok_or(
                self.http.as_ref().is_some_and(|(s, _)| *s == status),
                || format!("expected HTTP status {status}; {}", self.http_seen()),
            ));
        }
        if let Some(text) = &expect.http_body {
            want(ok_or(
                self.http
                    .as_ref()
                    .is_some_and(|(_, b)| b.contains(text.as_str())),
                || {
                    format!(
                        "expected the HTTP body to contain {text:?}; {}",
                        self.http_seen()
                    )
                },
            ));
        }
        if let Some(file) = &expect.file {
            want(inside_home(&file.path).and_then(|relative| {
                let path = self.session.node().home().root().join(relative);
                let content = std::fs::read_to_string(&path).unwrap_or_default();
                ok_or(content.contains(file.contains.as_str()), || {
                    format!("expected {} to contain {:?}", file.path, file.contains)
                })
            }));
        }
        if let Some(passes) = expect.passes {
            let failures = report.check_failures();
            want(ok_or(failures.is_empty() == passes, || {
                if passes {
                    format!(
                        "expected the run to pass; it fails: {}",
                        failures.join("; ")
                    )
                } else {
                    "expected the run to fail; it passes".to_string()
                }
            }));
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(failed.join("\n"))
        }
    }

    fn http_seen(&self) -> String {
        match &self.http {
            Some((status, body)) => format!("got {status} with body {body:?}"),
            None => "no `http` step ran".into(),
        }
    }

    fn spawned(&self, report: &Report, spawn: &ExpectSpawn) -> Result<(), String> {
        let parent = spawn.parent.as_ref().map(|p| self.id(p));
        let child = spawn.child.as_ref().map(|c| self.id(c));
        let found = report.spawns.iter().any(|s| {
            parent.as_ref().is_none_or(|p| s.parent == *p)
                && child.as_ref().is_none_or(|c| match &s.child {
                    Some(made) => made == c,
                    None => s.name.as_deref() == Some(c.process_name.as_str()),
                })
                && spawn.result.is_none_or(|r| s.result == r)
        });
        let mut wanted = vec![];
        if let Some(p) = &parent {
            wanted.push(format!("by {p}"));
        }
        if let Some(c) = &child {
            wanted.push(format!("of {c}"));
        }
        if let Some(r) = spawn.result {
            wanted.push(format!("with result {}", wire(&r)));
        }
        let spawns: Vec<String> = report
            .spawns
            .iter()
            .map(|s| {
                let child = s
                    .child
                    .as_ref()
                    .map_or_else(|| s.name.clone().unwrap_or_default(), ToString::to_string);
                format!("{} spawned {child}: {}", s.parent, wire(&s.result))
            })
            .collect();
        ok_or(found, || {
            format!(
                "expected a spawn {}; the spawns were {}",
                wanted.join(" "),
                list_or_none(&spawns)
            )
        })
    }

    fn holds(&self, report: &Report, cap: &ExpectCap) -> Result<(), String> {
        let process = self.id(&cap.process);
        if !self.existed(report, &process) {
            return Err(self.unknown(report, &process));
        }
        let params = cap
            .params
            .clone()
            .unwrap_or_else(|| "messaging".into())
            .to_string();
        let wanted = Capability::new(self.driver.address(self.id(&cap.issuer)), params);
        let held: Vec<Capability> = if cap.at_start {
            let Some(record) = report.record(&process) else {
                return Err(format!(
                    "{process} never started, so it held nothing at start"
                ));
            };
            record
                .capabilities_at_start
                .iter()
                .filter_map(|c| Some(Capability::new(Address::parse(&c.issuer).ok()?, &c.params)))
                .collect()
        } else {
            self.session.node().kernel(|k| k.caps_of(&process))
        };
        let holds = held.contains(&wanted);
        let when = if cap.at_start { "at start" } else { "now" };
        ok_or(holds != cap.not, || {
            let list: Vec<String> = held.iter().map(ToString::to_string).collect();
            format!(
                "expected {process} {}to hold {wanted} {when}; it holds {}",
                if cap.not { "not " } else { "" },
                list_or_none(&list)
            )
        })
    }

    fn printed(&self, report: &Report, print: &ExpectPrint) -> Result<(), String> {
        let from = print.process.as_ref().map(|p| self.id(p));
        if let Some(id) = from.as_ref().filter(|id| !self.existed(report, id)) {
            return Err(self.unknown(report, id));
        }
        let found = report.prints.iter().any(|p| {
            p.text.contains(print.contains.as_str())
                && from.as_ref().is_none_or(|w| p.process == *w)
        });
        ok_or(found, || {
            let by = from
                .as_ref()
                .map_or(String::new(), |p| format!(" from {p}"));
            let theirs: Vec<String> = report
                .prints
                .iter()
                .filter(|p| from.as_ref().is_none_or(|w| p.process == *w))
                .rev()
                .take(5)
                .map(|p| format!("{:?}", p.text.lines().next().unwrap_or("")))
                .collect();
            let omitted = match report.omitted.prints {
                0 => String::new(),
                n => format!(" ({n} later prints were not kept)"),
            };
            format!(
                "expected a print containing {:?}{by}; the last prints{by} were {}{omitted}",
                print.contains,
                list_or_none(&theirs)
            )
        })
    }

    fn exited(&self, report: &Report, exit: &ExpectExit) -> Result<(), String> {
        let id = self.id(&exit.process);
        let Some(record) = report.record(&id) else {
            return Err(self.unknown(report, &id));
        };
        ok_or(record.exit.kind == exit.kind, || {
            format!(
                "expected {id} to have exit {}; it {}",
                wire(&exit.kind),
                describe_exit(&record.exit.kind, &record.exit.detail)
            )
        })
    }

    fn blocked(&self, report: &Report, blocked: &ExpectBlocked) -> Result<(), String> {
        let from = blocked.from.as_ref().map(|p| self.id(p));
        let to = blocked.to.as_ref().map(|p| self.id(p));
        if blocked.not {
            // "Nothing from X was blocked" says nothing if X never existed.
            for id in from.iter().chain(&to) {
                if !self.existed(report, id) {
                    return Err(self.unknown(report, id));
                }
            }
        }
        let matching: Vec<String> = report
            .blocked_messages
            .iter()
            .filter(|b| {
                from.as_ref().is_none_or(|f| b.source.process == *f)
                    && to.as_ref().is_none_or(|t| b.target.process == *t)
            })
            .map(|b| format!("{} -> {}: {}", b.source, b.target, b.reason))
            .collect();
        let route = match (&from, &to) {
            (Some(f), Some(t)) => format!(" from {f} to {t}"),
            (Some(f), None) => format!(" from {f}"),
            (None, Some(t)) => format!(" to {t}"),
            (None, None) => String::new(),
        };
        if blocked.not {
            ok_or(matching.is_empty(), || {
                format!(
                    "expected no blocked message{route}; blocked: {}",
                    matching.join("; ")
                )
            })
        } else {
            let all: Vec<String> = report
                .blocked_messages
                .iter()
                .map(|b| format!("{} -> {}", b.source, b.target))
                .collect();
            ok_or(!matching.is_empty(), || {
                format!(
                    "expected a blocked message{route}; the blocked messages were {}",
                    list_or_none(&all)
                )
            })
        }
    }
}

/// A kind, result or diagnostic as the scenario file and the JSON write
/// it (`trapped`, `no_file_at_path`, `capability_dropped`).
fn wire<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => "?".into(),
    }
}

fn ok_or(ok: bool, failure: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(failure())
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// How a process ended, in words, with the first line of why.
fn describe_exit(kind: &ExitKind, detail: &str) -> String {
    let first = detail.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    match kind {
        ExitKind::Returned => "returned".into(),
        ExitKind::Running => "is running, waiting for messages".into(),
        other => format!("{}: {first}", wire(other)),
    }
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

/// The part of the run that explains a failure: each process that
/// trapped or never ran with why (its panic, file and line), the last
/// prints, and every diagnostic with its hint.
fn trace(report: &Report) -> String {
    let mut out = String::new();
    for p in &report.processes {
        if matches!(p.exit.kind, ExitKind::Trapped | ExitKind::NeverRan) {
            out.push_str(&format!("\n    {} {}:", p.id, wire(&p.exit.kind)));
            for line in p
                .exit
                .detail
                .lines()
                .filter(|l| !l.trim().is_empty())
                .take(6)
            {
                out.push_str(&format!("\n      | {line}"));
            }
        }
    }
    for p in report.prints.iter().rev().take(8).rev() {
        out.push_str(&format!(
            "\n    print [{}] {}",
            p.process,
            p.text.lines().next().unwrap_or("")
        ));
    }
    for d in &report.diagnostics {
        out.push_str(&format!(
            "\n    diagnostic {}: {}",
            wire(&d.kind),
            d.message
        ));
        if let Some(hint) = &d.hint {
            out.push_str(&format!("\n      hint: {hint}"));
        }
    }
    out
}
