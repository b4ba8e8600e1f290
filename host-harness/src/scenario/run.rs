//! Runs one scenario: a copy of the package with the scenario's manifest
//! changes, a fresh node home seeded with its files and state, its HTTP
//! mocks; then its steps, in order, each `send` and `http` followed by the
//! run settling. A failed expectation says what was expected, what
//! happened, and the prints and diagnostics that explain it.

use std::path::{Component, Path};
use std::time::{Duration, Instant};

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::driver::{Driver, NoAnswer, Outgoing};
use crate::node::Node;
use crate::report::{compare, Crossing, CrossingRecord, ExitKind, NetworkReport, Report};
use crate::types::{Address, Capability, PackageId, ProcessId, SendErrorKind};
use crate::util::{link_tree, TempDir};
use crate::{NodeSpec, RunOptions, Session};

use super::faults;
use super::format::Fault;
use super::format::{
    CookieChoice, CrossingWord, Expect, ExpectBlocked, ExpectCap, ExpectCrossed, ExpectExit,
    ExpectPrint, ExpectSpawn, Http, ManifestChange, ProcessRef, Restart, Scenario, Send,
    SendErrorWord, Step, Wait,
};
use super::{Faults, ScenarioResult, Settings};

/// The process scenarios send from, on each node: public, given messaging
/// to each process it sends to, and the network capability.
fn driver_id() -> ProcessId {
    ProcessId::new("driver", "host-harness", "sys")
}

/// Runs one scenario: on virtual time (unless `settings` say real), on a
/// thread and a runtime of its own, from one seed.
pub async fn run(
    package_dir: &Path,
    scenario: &Scenario,
    name: String,
    file: std::path::PathBuf,
    settings: &Settings,
) -> ScenarioResult {
    let seed = settings.seed.unwrap_or_else(rand::random);
    if settings.check_determinism && !settings.real_time {
        let once = Settings {
            seed: Some(seed),
            check_determinism: false,
            trace: true,
            ..settings.clone()
        };
        let first = Box::pin(run(
            package_dir,
            scenario,
            name.clone(),
            file.clone(),
            &once,
        ))
        .await;
        let mut second = Box::pin(run(package_dir, scenario, name, file, &once)).await;
        if let Some(difference) = first_difference(&first, &second) {
            second.failures.push(format!(
                "not deterministic: two runs from seed {seed} differ: {difference}"
            ));
        }
        return second;
    }
    let added = match &settings.faults {
        Faults::None => vec![],
        Faults::Random => {
            let nodes: Vec<String> = scenario.node.decls().into_iter().map(|d| d.name).collect();
            faults::draw(seed, &nodes, &scenario.random_faults).concat()
        }
        Faults::Exactly(schedule) => schedule.clone(),
    };
    let mut scenario = scenario.clone();
    scenario.fault.extend(added.iter().cloned());
    let run = Run {
        seed,
        simulated: !settings.real_time,
        trace: settings.trace,
        shuffle_capabilities: settings.shuffle_capabilities,
        timeline: settings.timeline,
        added,
    };
    if settings.real_time {
        return run_here(package_dir, &scenario, name, file, run).await;
    }
    let (dir, label, copy, started) = (
        package_dir.to_owned(),
        name.clone(),
        file.clone(),
        Instant::now(),
    );
    let added = run.added.clone();
    let ran = crate::util::sim::simulate(crate::api::SIMULATION_WALL_LIMIT, move || {
        Box::pin(async move { run_here(&dir, &scenario, name, file, run).await })
    })
    .await;
    ran.unwrap_or_else(|| ScenarioResult {
        name: label,
        file: copy,
        failures: vec![format!(
            "the scenario did not end within {:?} of real time (a process computing without end \
             and cpu_limit = 0?)",
            crate::api::SIMULATION_WALL_LIMIT
        )],
        duration: started.elapsed(),
        node_time: Duration::ZERO,
        seed,
        faults: added,
        report: None,
        network: None,
    })
}

/// One run of a scenario: its seed, its clock, and the faults it adds.
struct Run {
    seed: u64,
    simulated: bool,
    trace: bool,
    shuffle_capabilities: Option<bool>,
    timeline: bool,
    added: Vec<Fault>,
}

async fn run_here(
    package_dir: &Path,
    scenario: &Scenario,
    name: String,
    file: std::path::PathBuf,
    run: Run,
) -> ScenarioResult {
    let started = Instant::now();
    let clock = tokio::time::Instant::now();
    let Run {
        seed,
        simulated,
        trace,
        shuffle_capabilities,
        timeline,
        added,
    } = run;
    let mut result = ScenarioResult {
        name,
        file,
        failures: vec![],
        duration: Duration::ZERO,
        node_time: Duration::ZERO,
        seed,
        faults: added,
        report: None,
        network: None,
    };
    let prepared = TempDir::new("scenario")
        .map_err(|e| format!("cannot make a directory for the scenario: {e}"))
        .and_then(|work| {
            let package = prepare(package_dir, work.path(), scenario)?;
            Ok((work, package))
        });
    match prepared {
        Ok((work, package)) => {
            let mut options = options_for(package_dir, work.path(), scenario, seed, simulated);
            options.trace = trace;
            options.shuffle_capabilities = shuffle_capabilities;
            options.timeline = timeline;
            let (failures, report, network) = drive(work.path(), scenario, package, options).await;
            result.failures = failures;
            result.report = report;
            result.network = network;
        }
        Err(e) => result.failures.push(e),
    }
    result.duration = started.elapsed();
    result.node_time = clock.elapsed();
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
    // Only read (installing copies it into the home): linked, not copied.
    link_tree(&package_dir.join("pkg"), &work.join("pkg")).map_err(|e| e.to_string())?;
    let manifest_path = package_dir.join("pkg/manifest.json");
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    let mut manifest: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    for change in &scenario.manifest {
        apply(&mut manifest, change)?;
    }
    let copied = work.join("pkg/manifest.json");
    // A new file, not the package's own through its link.
    let _ = std::fs::remove_file(&copied);
    std::fs::write(&copied, manifest.to_string()).map_err(|e| e.to_string())?;
    let decls = scenario.node.decls();
    let home_of = |node: &str| {
        if decls.len() > 1 {
            work.join("home").join(node)
        } else {
            work.join("home")
        }
    };
    for seed in &scenario.file {
        let home = home_of(seed.node.as_deref().unwrap_or(&decls[0].name));
        let path = home.join(inside_home(&seed.path).map_err(|e| format!("file: {e}"))?);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&path, &seed.content).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    // Persisted state is put in every node's home.
    for (process, state) in &scenario.state {
        let id = process.process().resolve(&package);
        for decl in &decls {
            let dir = home_of(&decl.name).join("state");
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            std::fs::write(dir.join(id.to_string()), state).map_err(|e| e.to_string())?;
        }
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
    /// The scenario's driver on each node it sent from.
    drivers: BTreeMap<String, Driver>,
    package: PackageId,
    /// The nodes, in declared order; steps default to the first.
    nodes: Vec<String>,
    timeout: Duration,
    response: Option<String>,
    http: Option<(u16, String)>,
    /// How many `[[fault]]`s are still to come: while any is, an idle run
    /// may yet change, so no step concludes that nothing will happen.
    faults_left: Option<Arc<std::sync::atomic::AtomicUsize>>,
}

/// The run's options: the package (as prepared in `work`) on each node
/// the scenario declares, homes under `work/home`.
fn options_for(
    package_dir: &Path,
    work: &Path,
    scenario: &Scenario,
    seed: u64,
    simulated: bool,
) -> RunOptions {
    // `from_toml` checked it; a scenario built in code may not be.
    let timeout =
        Duration::try_from_secs_f64(scenario.timeout()).unwrap_or(Duration::from_secs(10));
    let mut options = RunOptions::new(work);
    let decls = scenario.node.decls();
    options.node = decls[0].name.clone();
    if decls.len() > 1 {
        options.nodes = decls
            .iter()
            .map(|decl| NodeSpec {
                name: decl.name.clone(),
                packages: decl
                    .packages
                    .iter()
                    .map(|p| {
                        if p == "." {
                            work.to_owned()
                        } else {
                            package_dir.join(p)
                        }
                    })
                    .collect(),
            })
            .collect();
    }
    options.timeout = timeout;
    options.http_mocks = scenario.http_mock.clone();
    options.home = Some(work.join("home"));
    options.cpu_limit = scenario.cpu_limit();
    options.allow_blocked = scenario.allow_blocked;
    if let Some(mib) = scenario.memory_limit {
        options.memory_limit = mib << 20;
    }
    options.seed = Some(seed);
    options.virtual_time = simulated;
    options
}

/// What a finished scenario leaves: its failures, the first node's report
/// and, with several nodes, the network's.
type Outcome = (Vec<String>, Option<Report>, Option<NetworkReport>);

async fn drive(
    work: &Path,
    scenario: &Scenario,
    package: PackageId,
    options: RunOptions,
) -> Outcome {
    let timeout = options.timeout;
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
                None,
            );
        }
    };
    let nodes: Vec<String> = scenario.node.decls().into_iter().map(|d| d.name).collect();
    let fault_errors = Arc::new(std::sync::Mutex::new(Vec::new()));
    let fault_task = faults::schedule(
        session.network(),
        &nodes,
        scenario.fault.clone(),
        fault_errors.clone(),
    );
    session.settle(timeout).await;
    let mut run = Drive {
        session,
        drivers: BTreeMap::new(),
        package,
        nodes,
        timeout,
        response: None,
        http: None,
        faults_left: fault_task.as_ref().map(|p| p.counter()),
    };
    let mut failures = Vec::new();
    for (index, step) in scenario.step.iter().enumerate() {
        let outcome = run.step(step).await;
        let moves = match step {
            Step::Send(send) => send.settle,
            Step::Http(_) | Step::Restart(_) | Step::Crash(_) | Step::Heal(_) => true,
            _ => false,
        };
        let settled = !moves || run.session.settle(timeout).await;
        let outcome = match (outcome, settled) {
            (Err(e), _) => Err(e),
            // What comes after would wait on the same busy run: stop here.
            (Ok(()), false) => Err(format!(
                "the run did not settle within {timeout:?}: {}; the steps after this one were \
                 not run",
                run.what_is_busy().join("; ")
            )),
            (Ok(()), true) => Ok(()),
        };
        if let Err(e) = outcome {
            failures.push(format!("step {}: {e}{}", index + 1, run.trace(step)));
            if !settled {
                break;
            }
        }
    }
    // The faults still to come happen before the run ends.
    if let Some(pending) = fault_task {
        let origin = run.session.network().origin();
        failures.extend(pending.finish(origin, timeout).await);
    }
    let idle = run.session.settle(timeout).await;
    failures.extend(crate::util::lock(&fault_errors).drain(..));
    // The home is the scenario's own, gone after it: not worth reporting.
    let mut network = run.session.finish_network(idle).await;
    for report in network.nodes.iter_mut().chain(&mut network.earlier_boots) {
        report.home = None;
    }
    let first = network.nodes.first().cloned();
    if run.nodes.len() > 1 {
        (failures, first, Some(network))
    } else {
        (failures, first, None)
    }
}

impl Drive {
    async fn step(&mut self, step: &Step) -> Result<(), String> {
        match step {
            Step::Send(send) => self.send(send).await,
            Step::Http(http) => self.http(http).await,
            Step::Wait(wait) => self.wait(wait).await,
            Step::Expect(expect) => self.check(expect),
            Step::Restart(Restart::Process { process, node }) => {
                self.restart(node.as_ref(), process)
            }
            Step::Restart(Restart::Node(_)) => {
                let first = self.nodes[0].clone();
                self.reboot(&first).await
            }
            Step::Restart(Restart::Named { node }) => self.reboot(node).await,
            Step::Crash(node) => {
                self.response = None;
                self.session.network().crash(node).await
            }
            Step::Partition(partition) => {
                let groups = &partition.groups;
                for (i, a) in groups.iter().enumerate() {
                    for b in &groups[i + 1..] {
                        self.session.network().partition(a, b, partition.one_way);
                    }
                }
                Ok(())
            }
            Step::Heal(_) => {
                self.session.network().heal();
                Ok(())
            }
            Step::Latency(step) => {
                faults::set_latency(self.session.network(), &self.nodes, step);
                Ok(())
            }
        }
    }

    /// The node a step names (default: the first), if it is up.
    fn node(&self, name: Option<&String>) -> Result<Arc<Node>, String> {
        let name = name.unwrap_or(&self.nodes[0]);
        self.session
            .network()
            .node(name)
            .ok_or_else(|| format!("node {name} is down (it crashed); `restart = {{ node = \"{name}\" }}` boots it again"))
    }

    /// Installs the scenario's driver on node `name` the first time (and
    /// again after the node rebooted).
    fn install_driver(&mut self, name: &str) -> Result<(), String> {
        let node = self.node(Some(&name.to_string()))?;
        if !self.drivers.get(name).is_some_and(|d| d.is_on(&node)) {
            self.drivers
                .insert(name.to_string(), Driver::install(&node, driver_id()));
        }
        Ok(())
    }

    /// Node `name`'s report so far (default: the first's).
    fn report(&self, name: Option<&String>) -> Result<Report, String> {
        let name = name.unwrap_or(&self.nodes[0]);
        self.session
            .report_of(name)
            .ok_or_else(|| format!("node {name} is down (it crashed), so it has nothing to check"))
    }

    /// The node (`name`, else the first) boots again from its home, as a
    /// node reboots: its persisted processes start again with their
    /// capabilities and state.
    async fn reboot(&mut self, name: &str) -> Result<(), String> {
        self.response = None;
        self.http = None;
        self.session.settle(self.timeout).await;
        self.session
            .network()
            .restart(name)
            .await
            .map_err(|e| format!("node {name} did not boot again: {e}"))
    }

    /// One running process stopped and started again.
    fn restart(&self, node: Option<&String>, process: &ProcessRef) -> Result<(), String> {
        let id = self.id(process);
        let on = self.node(node)?;
        if on.kernel(|k| k.reboot(&id)) {
            return Ok(());
        }
        let report = self.report(node)?;
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

    /// Whether `id` was ever a process of this node's run (a runtime
    /// module, or a process installed or spawned, alive or not).
    fn existed(&self, node: &Node, report: &Report, id: &ProcessId) -> bool {
        report.record(id).is_some() || node.kernel(|k| k.program(id).is_some())
    }

    /// "no process X in this run", with the processes there are.
    fn unknown(&self, report: &Report, id: &ProcessId) -> String {
        let names: Vec<String> = report.processes.iter().map(|p| p.id.to_string()).collect();
        let on = if self.nodes.len() > 1 {
            format!(" on {}", report.node)
        } else {
            String::new()
        };
        format!(
            "there is no process {id} in this run{on} (its processes: {})",
            names.join(", ")
        )
    }

    /// What keeps each node busy.
    fn what_is_busy(&self) -> Vec<String> {
        let network = self.session.network();
        let mut busy = Vec::new();
        for name in &self.nodes {
            if let Some(node) = network.node(name) {
                let prefix = if self.nodes.len() > 1 {
                    format!("{name}: ")
                } else {
                    String::new()
                };
                busy.extend(
                    node.what_is_busy()
                        .into_iter()
                        .map(|b| format!("{prefix}{b}")),
                );
            }
        }
        busy
    }

    async fn send(&mut self, send: &Send) -> Result<(), String> {
        let to = self.id(&send.to.process);
        let here = send.node.as_ref().unwrap_or(&self.nodes[0]).clone();
        let remote = send.to.node.clone().filter(|n| *n != here);
        let target = match &remote {
            Some(node) => format!("{node}@{to}"),
            None => to.to_string(),
        };
        let body = match (&send.json, &send.body) {
            (Some(json), _) => json.to_string().into_bytes(),
            (None, Some(text)) => text.clone().into_bytes(),
            (None, None) => vec![],
        };
        let outgoing = Outgoing {
            to: to.clone(),
            to_node: remote.clone(),
            body,
            blob: send.blob.as_ref().map(|text| text.clone().into_bytes()),
            expects_response: send.expects_response,
        };
        let from = send.from.as_ref().map(|p| self.id(p));
        if let Some(id) = &from {
            let node = self.node(Some(&here))?;
            let report = self.report(Some(&here))?;
            if !self.existed(&node, &report, id) {
                return Err(self.unknown(&report, id));
            }
        }
        self.install_driver(&here)?;
        let driver = &self.drivers[&here];
        if let Some(from) = from {
            driver.send_as(from, outgoing);
            self.response = None;
            return Ok(());
        }
        if remote.is_none() {
            let messaging = Capability::messaging(driver.address(to.clone()));
            driver.grant(driver.id(), vec![messaging]);
        }
        let limit = Duration::from_secs(send.expects_response.unwrap_or(0)).min(self.timeout);
        let node = self.node(Some(&here))?;
        let answer = {
            // A response that has not come by the time the run is idle
            // never will: say so then rather than at the timeout.
            let ask = driver.ask(outgoing, limit);
            tokio::pin!(ask);
            let idle = node.watch(limit * 2 + Duration::from_secs(1), |_, idle| {
                idle.then_some(())
            });
            tokio::select! {
                biased;
                answer = &mut ask => answer,
                _ = idle => match futures_util::FutureExt::now_or_never(&mut ask) {
                    Some(answer) => answer,
                    None if self.faults_pending() => ask.await,
                    None if send.error.is_some() => Err(NoAnswer::TimedOut(limit)),
                    None => {
                        let state = match (&remote, self.report(Some(&here))) {
                            (None, Ok(report)) => match report.record(&to) {
                                Some(p) => describe_exit(&p.exit.kind, &p.exit.detail),
                                None => self.unknown(&report, &to),
                            },
                            _ => "did not answer".into(),
                        };
                        return Err(format!(
                            "no response to the request to {target}, and the run is idle, so \
                             none will come: {target} {state}"
                        ));
                    }
                },
            }
        };
        // A send that gets no response leaves none to check.
        self.response = None;
        let got = match &answer {
            Ok(_) => None,
            Err(NoAnswer::Refused(SendErrorKind::Offline)) => Some(SendErrorWord::Offline),
            Err(NoAnswer::Refused(SendErrorKind::Timeout) | NoAnswer::TimedOut(_)) => {
                Some(SendErrorWord::Timeout)
            }
        };
        if let Some(wanted) = send.error {
            return match (got, answer) {
                (Some(got), _) if got == wanted => Ok(()),
                (Some(got), _) => Err(format!(
                    "expected the request to {target} to fail with {}; it failed with {}",
                    wire(&wanted),
                    wire(&got)
                )),
                (None, Ok(body)) => Err(format!(
                    "expected the request to {target} to fail with {}; it was answered {:?}",
                    wire(&wanted),
                    String::from_utf8_lossy(&body.unwrap_or_default())
                )),
                (None, Err(_)) => unreachable!("an error has a kind"),
            };
        }
        match answer {
            Ok(body) => {
                self.response = body.map(|body| String::from_utf8_lossy(&body).into_owned());
                Ok(())
            }
            Err(NoAnswer::Refused(kind)) => {
                let why = match (&remote, self.report(Some(&here))) {
                    (None, Ok(report)) if !self.existed(&node, &report, &to) => {
                        format!(": {}", self.unknown(&report, &to))
                    }
                    _ => String::new(),
                };
                Err(format!(
                    "the request to {target} got SendError {} at once{why} (a send that is meant \
                     to fail says so: `error = \"{}\"`)",
                    wire(&kind_word(kind)),
                    wire(&kind_word(kind))
                ))
            }
            Err(NoAnswer::TimedOut(limit)) => Err(format!(
                "no response to the request to {target} within {limit:?}"
            )),
        }
    }

    async fn http(&mut self, http: &Http) -> Result<(), String> {
        let name = http.node.as_ref().unwrap_or(&self.nodes[0]).clone();
        self.node(Some(&name))?;
        let cookie = match &http.cookie {
            CookieChoice::Node(false) => None,
            CookieChoice::Node(true) => self.session.http_cookie_of(&name),
            CookieChoice::App(process) => {
                let id = self.id(process);
                self.session.http_app_cookie_of(&name, &id)
            }
        };
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(cookie) = &cookie {
            headers.push(("cookie", cookie));
        }
        if let Some(host) = &http.host {
            headers.push(("host", host));
        }
        let answer = self
            .session
            .http_request(
                &name,
                &http.method,
                &http.path,
                &headers,
                http.body.clone().into_bytes(),
            )
            .await?;
        self.http = Some((
            answer.status,
            String::from_utf8_lossy(&answer.body).into_owned(),
        ));
        Ok(())
    }

    /// Whether a `[[fault]]` is still to come.
    fn faults_pending(&self) -> bool {
        self.faults_left
            .as_ref()
            .is_some_and(|left| left.load(std::sync::atomic::Ordering::SeqCst) > 0)
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
        let on = match (&wait.node, self.nodes.len()) {
            (_, 1) => String::new(),
            (Some(name), _) => format!(" on {name}"),
            (None, _) => format!(" on {}", self.nodes[0]),
        };
        let what = || {
            let mut parts = Vec::new();
            if let Some(text) = &wait.print {
                let by = from
                    .as_ref()
                    .map_or(String::new(), |p| format!(" from {p}"));
                parts.push(format!("a print containing {text:?}{by}{on}"));
            }
            if let Some(id) = &exit {
                parts.push(format!("{id} to end{on}"));
            }
            parts.join(" and ")
        };
        let mut check = |report: &Report, idle: bool| {
            let idle = idle && !self.faults_pending();
            let printed = wait.print.as_ref().is_none_or(|text| {
                report.prints.iter().any(|p| {
                    p.text.contains(text.as_str()) && from.as_ref().is_none_or(|w| p.process == *w)
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
            if let Some(id) = exit.as_ref().filter(|id| report.record(id).is_none()) {
                if idle {
                    return Some(Err(self.unknown(report, id)));
                }
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
        };
        // A fault may take the node down and boot it again while this
        // waits: then it watches the new boot (or waits for one).
        let network = self.session.network();
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let changed = network.membership_changed();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let outcome = match self.node(wait.node.as_ref()) {
                Ok(node) => tokio::select! {
                    biased;
                    outcome = node.watch(left, &mut check) => Some(outcome),
                    _ = &mut changed => None,
                },
                Err(e) if !self.faults_pending() => return Err(e),
                Err(_) => match tokio::time::timeout(left, &mut changed).await {
                    Ok(()) => None,
                    Err(_) => Some(None),
                },
            };
            match outcome {
                Some(Some(result)) => return result,
                Some(None) => return Err(format!("waited {:?} for {}", self.timeout, what())),
                None => continue,
            }
        }
    }

    fn check(&self, expect: &Expect) -> Result<(), String> {
        let mut failed = Vec::new();
        let mut want = |result: Result<(), String>| {
            if let Err(e) = result {
                failed.push(e);
            }
        };
        // What crossed between nodes is the network's, not a node's.
        if let Some(crossed) = &expect.crossed {
            want(self.crossed(crossed));
        }
        let checks_node = Expect {
            crossed: None,
            node: None,
            ..expect.clone()
        };
        if !checks_node.is_empty() {
            let node = self.node(expect.node.as_ref())?;
            let report = self.report(expect.node.as_ref())?;
            self.check_node(&node, &report, expect, &mut want);
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(failed.join("\n"))
        }
    }

    fn check_node(
        &self,
        node: &Node,
        report: &Report,
        expect: &Expect,
        want: &mut impl FnMut(Result<(), String>),
    ) {
        if let Some(spawn) = &expect.spawn {
            want(self.spawned(node, report, spawn));
        }
        if let Some(cap) = &expect.holds {
            want(self.holds(node, report, cap));
        }
        if let Some(print) = &expect.print {
            want(self.printed(node, report, print));
        }
        if let Some(exit) = &expect.exit {
            want(self.exited(report, exit));
        }
        if let Some(blocked) = &expect.blocked {
            want(self.blocked(node, report, blocked));
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
                let content = read_in_home(node.home().root(), relative);
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
    }

    fn crossed(&self, crossed: &ExpectCrossed) -> Result<(), String> {
        let crossings = self.session.network().crossings();
        let wanted = |c: &CrossingRecord| {
            crossed.from.as_ref().is_none_or(|n| c.source.node == *n)
                && crossed.to.as_ref().is_none_or(|n| c.target.node == *n)
                && crossed.outcome.is_none_or(|o| word(&c.outcome) == o)
        };
        let matching = crossings.iter().filter(|c| wanted(c)).count();
        let mut what = vec!["a message".to_string()];
        if let Some(from) = &crossed.from {
            what.push(format!("from {from}"));
        }
        if let Some(to) = &crossed.to {
            what.push(format!("to {to}"));
        }
        if let Some(outcome) = crossed.outcome {
            what.push(format!("that was {}", wire(&outcome)));
        }
        let what = what.join(" ");
        let seen: Vec<String> = crossings
            .iter()
            .rev()
            .take(8)
            .rev()
            .map(describe_crossing)
            .collect();
        if crossed.not {
            ok_or(matching == 0, || {
                format!("expected no {what}; {matching} crossed")
            })
        } else {
            ok_or(matching > 0, || {
                format!(
                    "expected {what} between nodes; what crossed: {}",
                    list_or_none(&seen)
                )
            })
        }
    }

    fn http_seen(&self) -> String {
        match &self.http {
            Some((status, body)) => format!("got {status} with body {body:?}"),
            None => "no `http` step ran".into(),
        }
    }

    fn spawned(&self, node: &Node, report: &Report, spawn: &ExpectSpawn) -> Result<(), String> {
        let parent = spawn.parent.as_ref().map(|p| self.id(p));
        let child = spawn.child.as_ref().map(|c| self.id(c));
        // A child need not exist (its spawn may have failed); a parent must.
        if let Some(id) = parent.as_ref().filter(|id| !self.existed(node, report, id)) {
            return Err(self.unknown(report, id));
        }
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

    fn holds(&self, node: &Node, report: &Report, cap: &ExpectCap) -> Result<(), String> {
        let process = self.id(&cap.process);
        let issuer = self.id(&cap.issuer);
        // A misspelt issuer would make `not = true` pass for nothing.
        for id in [&process, &issuer] {
            if !self.existed(node, report, id) {
                return Err(self.unknown(report, id));
            }
        }
        let params = cap
            .params
            .clone()
            .unwrap_or_else(|| "messaging".into())
            .to_string();
        let wanted = Capability::new(Address::new(node.name(), issuer), params);
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
            node.kernel(|k| k.caps_of(&process))
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

    fn printed(&self, node: &Node, report: &Report, print: &ExpectPrint) -> Result<(), String> {
        let from = print.process.as_ref().map(|p| self.id(p));
        if let Some(id) = from.as_ref().filter(|id| !self.existed(node, report, id)) {
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

    fn blocked(&self, node: &Node, report: &Report, blocked: &ExpectBlocked) -> Result<(), String> {
        let from = blocked.from.as_ref().map(|p| self.id(p));
        let to = blocked.to.as_ref().map(|p| self.id(p));
        if blocked.not {
            // "Nothing from X was blocked" says nothing if X never existed.
            for id in from.iter().chain(&to) {
                if !self.existed(node, report, id) {
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

    /// What explains a failed step: its node's processes, prints and
    /// diagnostics, and, with several nodes, what crossed between them.
    fn trace(&self, step: &Step) -> String {
        let name = match step {
            Step::Send(s) => s.node.clone(),
            Step::Http(h) => h.node.clone(),
            Step::Wait(w) => w.node.clone(),
            Step::Expect(e) => e.node.clone(),
            Step::Restart(Restart::Named { node }) | Step::Crash(node) => Some(node.clone()),
            Step::Restart(Restart::Process { node, .. }) => node.clone(),
            _ => None,
        };
        let mut out = match self.report(name.as_ref()) {
            Ok(report) => trace(&report),
            Err(_) => String::new(),
        };
        for fault in self.session.network().faults() {
            out.push_str(&format!(
                "\n    fault at {:.1} ms: {}",
                fault.at_ms, fault.fault
            ));
        }
        if self.nodes.len() > 1 {
            let crossings = self.session.network().crossings();
            let skipped = crossings.len().saturating_sub(10);
            if skipped > 0 {
                out.push_str(&format!("\n    ({skipped} earlier messages between nodes)"));
            }
            for c in crossings.iter().skip(skipped) {
                out.push_str(&format!("\n    crossed {}", describe_crossing(c)));
            }
        }
        out
    }
}

/// Where two runs of one seed first part: an event of the kernel's (the
/// traces), the failures, or what the reports say.
fn first_difference(a: &ScenarioResult, b: &ScenarioResult) -> Option<String> {
    fn reports(r: &ScenarioResult) -> Vec<&Report> {
        match &r.network {
            Some(network) => network.earlier_boots.iter().chain(&network.nodes).collect(),
            None => r.report.iter().collect(),
        }
    }
    if let Some(difference) = compare::trace_difference(&reports(a), &reports(b)) {
        return Some(difference);
    }
    if a.failures != b.failures {
        return Some(format!(
            "the failures differ: {:?} against {:?}",
            a.failures, b.failures
        ));
    }
    let json = |r: &ScenarioResult| {
        match (&r.network, &r.report) {
            (Some(network), _) => serde_json::to_value(network),
            (None, report) => serde_json::to_value(report),
        }
        .unwrap_or_default()
    };
    compare::json_difference(json(a), json(b))
}

/// A message between nodes in one line.
fn describe_crossing(c: &CrossingRecord) -> String {
    let outcome = match c.outcome {
        Crossing::InFlight => "in flight".to_string(),
        Crossing::Delivered => "delivered".to_string(),
        Crossing::Dropped(why) => format!("dropped by {} ({})", c.target.node, wire(&why)),
        Crossing::Failed(why) => format!("failed ({})", wire(&why)),
    };
    let body = c.body.lines().next().unwrap_or("");
    format!(
        "{} -> {} {} {body:?}: {outcome}",
        c.source,
        c.target,
        wire(&c.kind)
    )
}

/// A crossing's outcome as a scenario names it.
fn word(outcome: &Crossing) -> CrossingWord {
    match outcome {
        Crossing::InFlight => CrossingWord::InFlight,
        Crossing::Delivered => CrossingWord::Delivered,
        Crossing::Dropped(_) => CrossingWord::Dropped,
        Crossing::Failed(_) => CrossingWord::Failed,
    }
}

fn kind_word(kind: SendErrorKind) -> SendErrorWord {
    match kind {
        SendErrorKind::Offline => SendErrorWord::Offline,
        SendErrorKind::Timeout => SendErrorWord::Timeout,
    }
}

/// A file under a node's home, read without following a link out of it
/// (a process can make links in its drives); empty if it cannot be read.
fn read_in_home(home: &Path, relative: &Path) -> String {
    use std::io::Read;
    let Ok(root) = cap_std::fs::Dir::open_ambient_dir(home, cap_std::ambient_authority()) else {
        return String::new();
    };
    let mut content = String::new();
    if let Ok(mut file) = root.open(relative) {
        let _ = file.read_to_string(&mut content);
    }
    content
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
