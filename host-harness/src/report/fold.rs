//! Builds the report from the kernel's events, one at a time, in the
//! order they happened.

use crate::kernel::event::{Event, Exit, Limit, ModuleEvent, SpawnEvent, SpawnOutcome};
use crate::types::{Message, ProcessId};

use super::hints;
use super::{
    BindingRecord, BlockedRecord, CapRecord, Diagnostic, DiagnosticKind, DistroRecord, DroppedCap,
    Ended, ExitKind, ExitRecord, HttpRecord, HttpServerRecord, Level, MessageKind, PrintRecord,
    ProcessRecord, Reader, Report, ServedRecord, SpawnRecord, SpawnResult,
};

/// How many records of each kind the report keeps; the rest are counted
/// in `omitted` (a package that prints in a loop must not fill memory).
pub(crate) const KEPT: usize = 10_000;

fn bounded<T>(records: &mut Vec<T>, omitted: &mut u64, record: T) {
    if records.len() < KEPT {
        records.push(record);
    } else {
        *omitted += 1;
    }
}

/// Lines a report's trace keeps (`--check-determinism`); the rest are
/// dropped.
const TRACE_KEPT: usize = 100_000;

impl Report {
    /// Folds in `event`, which happened at `at` on the node's clock.
    pub(crate) fn fold(&mut self, event: &Event, at: std::time::Duration) {
        self.at_ms = at.as_secs_f64() * 1000.0;
        if self.tracing && self.trace.len() < TRACE_KEPT {
            self.trace
                .push(format!("{:.6} {event:?}", at.as_secs_f64()));
        }
        if self.timeline_on {
            if let Some(what) = super::timeline::happening(&self.node, event) {
                let record = super::timeline::TimelineEvent {
                    at_ms: self.at_ms,
                    node: self.node.clone(),
                    what,
                };
                if self.timeline.len() < super::timeline::TIMELINE_KEPT {
                    self.timeline.push(record);
                } else {
                    self.omitted.timeline += 1;
                }
            }
        }
        match event {
            // Kept for the timeline only.
            Event::Delivered { .. }
            | Event::ErrorDelivered { .. }
            | Event::CapChanged { .. }
            | Event::Revoked { .. } => {}
            Event::Print {
                source,
                verbosity,
                text,
                ..
            } => bounded(
                &mut self.prints,
                &mut self.omitted.prints,
                PrintRecord {
                    node: self.node.clone(),
                    at_ms: self.at_ms,
                    process: source.clone(),
                    verbosity: *verbosity,
                    // A node colours some lines; the report is plain text.
                    text: super::terminal::without_colour(text).into_owned(),
                },
            ),
            // The run's package is the first installed (`--package` adds more).
            Event::Installed { package } => {
                if self.package.is_empty() {
                    self.package = package.to_string();
                }
            }
            Event::Created {
                id,
                parent,
                wasm_path,
                public,
                on_exit,
            } => self.processes.push(ProcessRecord {
                node: self.node.clone(),
                id: id.clone(),
                parent: parent.clone(),
                wasm_path: wasm_path.clone(),
                public: *public,
                on_exit: on_exit.into(),
                capabilities_at_start: vec![],
                restarts: 0,
                restart_waits_ms: Vec::new(),
                exit: ExitRecord {
                    kind: ExitKind::Running,
                    detail: String::new(),
                    limit: None,
                },
                stdout: String::new(),
                stderr: String::new(),
            }),
            Event::Started { id, capabilities } => {
                if let Some(record) = self.record_mut(id) {
                    if record.capabilities_at_start.is_empty() {
                        record.capabilities_at_start =
                            capabilities.iter().map(Into::into).collect();
                    }
                }
            }
            Event::Exited {
                id,
                how,
                stdout,
                stderr,
            } => {
                if let Some(record) = self.record_mut(id) {
                    record.exit = match how {
                        Exit::Returned => ExitRecord {
                            kind: ExitKind::Returned,
                            detail: "init returned".into(),
                            limit: None,
                        },
                        Exit::Trapped(text) => ExitRecord {
                            kind: ExitKind::Trapped,
                            detail: super::terminal::without_colour(text).into_owned(),
                            limit: None,
                        },
                        Exit::LimitReached(limit, text) => ExitRecord {
                            kind: ExitKind::Trapped,
                            detail: text.clone(),
                            limit: Some(*limit),
                        },
                    };
                    record.stdout.push_str(stdout);
                    record.stderr.push_str(stderr);
                }
                if let Exit::LimitReached(Limit::CpuLimit, _) = how {
                    let text = hints::spins_on_node(id);
                    self.diagnose(Level::Warning, DiagnosticKind::SpinsOnNode, Some(id), text);
                }
            }
            Event::Killed { id } => {
                if let Some(record) = self.record_mut(id) {
                    if record.exit.kind == ExitKind::Running {
                        record.exit = ExitRecord {
                            kind: ExitKind::Killed,
                            detail: "killed by a KillProcess command".into(),
                            limit: None,
                        };
                    }
                }
            }
            Event::NeverRan {
                id,
                reason,
                built_for,
            } => {
                if let Some(record) = self.record_mut(id) {
                    record.exit = ExitRecord {
                        kind: ExitKind::NeverRan,
                        detail: reason.clone(),
                        limit: None,
                    };
                }
                let text = hints::never_ran(id, reason, *built_for, self.runtime);
                self.diagnose(Level::Error, DiagnosticKind::NeverRan, Some(id), text);
            }
            Event::RestartImpossible { id } => {
                let text = hints::restart_impossible(id);
                self.diagnose(
                    Level::Error,
                    DiagnosticKind::RestartImpossible,
                    Some(id),
                    text,
                );
            }
            Event::Restarting { id, after_ms } => {
                if let Some(record) = self.record_mut(id) {
                    record.restarts += 1;
                    record.restart_waits_ms.push(*after_ms);
                    record.exit = ExitRecord {
                        kind: ExitKind::Running,
                        detail: String::new(),
                        limit: None,
                    };
                }
            }
            Event::NotRebooted { id } => {
                let text = hints::not_rebooted(id);
                let kind = DiagnosticKind::NotRebooted;
                self.diagnose(Level::Warning, kind, Some(id), text);
            }
            Event::RestartFailed { id } => {
                let text = hints::restart_failed(id);
                self.diagnose(
                    Level::Warning,
                    DiagnosticKind::RestartFailed,
                    Some(id),
                    text,
                );
            }
            Event::OnExitChanged { id, on_exit } => {
                if let Some(record) = self.record_mut(id) {
                    record.on_exit = on_exit.into();
                }
            }
            Event::Spawn(spawn) => self.fold_spawn(spawn),
            Event::ManifestEntrySkipped { id, entry } => {
                let text = hints::manifest_entry_skipped(id, entry);
                self.diagnose(
                    Level::Error,
                    DiagnosticKind::ManifestEntrySkipped,
                    Some(id),
                    text,
                );
            }
            Event::InitialCapDropped {
                caller,
                id,
                capability,
            } => {
                let text = hints::initial_cap_dropped(caller, id, capability);
                let kind = DiagnosticKind::InitialCapabilityDropped;
                self.diagnose(Level::Warning, kind, Some(caller), text);
            }
            Event::TakenByKernel { id, from } => {
                // Once per process is enough to explain it.
                let said = self.diagnostics.iter().any(|d| {
                    d.kind == DiagnosticKind::NamedKernel && d.process.as_ref() == Some(id)
                });
                if !said {
                    let text = hints::named_kernel(id, from);
                    self.diagnose(Level::Error, DiagnosticKind::NamedKernel, Some(id), text);
                }
            }
            Event::ListedTwice { id } => {
                let text = hints::listed_twice(id);
                self.diagnose(Level::Error, DiagnosticKind::ListedTwice, Some(id), text);
            }
            Event::GrantSkipped { issuer, to, params } => {
                let text = hints::grant_skipped(to, params);
                self.diagnose(
                    Level::Warning,
                    DiagnosticKind::GrantSkipped,
                    Some(issuer),
                    text,
                );
            }
            Event::AttachedCapDropped { holder, capability } => {
                let text = hints::attached_cap_dropped(capability);
                let kind = DiagnosticKind::AttachedCapabilityDropped;
                self.diagnose(Level::Warning, kind, Some(holder), text);
            }
            Event::RemoteCapRejected {
                holder,
                from,
                capability,
            } => {
                let text = hints::remote_cap_rejected(&self.node, from, capability);
                let kind = DiagnosticKind::RemoteCapabilityRejected;
                self.diagnose(Level::Warning, kind, Some(holder), text);
            }
            Event::UnusedCapability { process, issuer } => {
                let text = hints::unused_capability(process, issuer);
                let kind = DiagnosticKind::UnusedCapability;
                self.diagnose(Level::Info, kind, Some(process), text);
            }
            Event::UnownedCapSaved { holder, capability } => match hints::powers(capability) {
                Some(power) => {
                    let text = hints::self_granted(capability, power);
                    let kind = DiagnosticKind::SelfGrantedCapability;
                    self.diagnose(Level::Warning, kind, Some(holder), text);
                }
                None => {
                    let text = hints::unowned_cap_saved(capability);
                    let kind = DiagnosticKind::UnownedCapabilitySaved;
                    self.diagnose(Level::Info, kind, Some(holder), text);
                }
            },
            Event::Blocked {
                message,
                reason,
                consequence,
            } => {
                let body = match &message.message {
                    Message::Request(r) => &r.body,
                    Message::Response((r, _)) => &r.body,
                };
                bounded(
                    &mut self.blocked_messages,
                    &mut self.omitted.blocked_messages,
                    BlockedRecord {
                        node: self.node.clone(),
                        at_ms: self.at_ms,
                        source: message.source.clone(),
                        target: message.target.clone(),
                        kind: match message.message {
                            Message::Request(_) => MessageKind::Request,
                            Message::Response(_) => MessageKind::Response,
                        },
                        body: hints::excerpt(&String::from_utf8_lossy(body)),
                        reason: hints::block_reason(message, *reason),
                        cause: *reason,
                        consequence: *consequence,
                    },
                );
                let text = hints::blocked(message, *reason, *consequence);
                // A message from another node is about the process here.
                let about = if message.source.node == self.node {
                    &message.source.process
                } else {
                    &message.target.process
                };
                self.diagnose(
                    Level::Warning,
                    DiagnosticKind::MessageBlocked,
                    Some(about),
                    text,
                );
            }
            Event::StrayResponse { process, id, from } => {
                let text = hints::stray_response(*id, from);
                self.diagnose(
                    Level::Info,
                    DiagnosticKind::StrayResponse,
                    Some(process),
                    text,
                );
            }
            Event::ResponseWithoutRequest { process } => {
                let text = hints::response_without_request();
                let kind = DiagnosticKind::ResponseWithoutRequest;
                self.diagnose(Level::Warning, kind, Some(process), text);
            }
            Event::MailboxFull { id } => {
                let text = hints::mailbox_full();
                self.diagnose(Level::Warning, DiagnosticKind::MailboxFull, Some(id), text);
            }
            Event::Module(event) => self.fold_module(event),
        }
    }

    fn fold_spawn(&mut self, spawn: &SpawnEvent) {
        let SpawnEvent {
            parent,
            name,
            wasm_path,
            outcome,
            dropped,
        } = spawn;
        let (result, child, detail) = match outcome {
            SpawnOutcome::Started(child) => (SpawnResult::Ok, Some(child), None),
            SpawnOutcome::Existing(child) => {
                let text = hints::name_taken(child);
                let detail = text.0.clone();
                self.diagnose(
                    Level::Warning,
                    DiagnosticKind::NameTaken,
                    Some(parent),
                    text,
                );
                (SpawnResult::Ok, Some(child), Some(detail))
            }
            SpawnOutcome::NoFileAtPath(cause) => {
                let text = hints::spawn_no_file(parent, wasm_path, cause);
                let detail = text.0.clone();
                self.diagnose(
                    Level::Error,
                    DiagnosticKind::SpawnFailed,
                    Some(parent),
                    text,
                );
                (SpawnResult::NoFileAtPath, None, Some(detail))
            }
            SpawnOutcome::Trapped(trap) => {
                let text = hints::spawn_trapped(name.as_deref().unwrap_or(""), trap);
                self.diagnose(
                    Level::Error,
                    DiagnosticKind::SpawnTrapped,
                    Some(parent),
                    text,
                );
                (SpawnResult::Trapped, None, Some(trap.clone()))
            }
        };
        let child_name =
            child.map_or_else(|| name.clone().unwrap_or_default(), ToString::to_string);
        for cap in dropped {
            let text = hints::capability_dropped_in_spawn(parent, &child_name, cap);
            self.diagnose(
                Level::Warning,
                DiagnosticKind::CapabilityDropped,
                Some(parent),
                text,
            );
        }
        self.spawns.push(SpawnRecord {
            at_ms: self.at_ms,
            parent: parent.clone(),
            name: name.clone(),
            wasm_path: wasm_path.clone(),
            result,
            child: child.cloned(),
            dropped_capabilities: dropped
                .iter()
                .map(|cap| DroppedCap {
                    capability: CapRecord::from(cap),
                    reason: hints::dropped_reason(parent),
                })
                .collect(),
            detail,
        });
    }

    fn fold_module(&mut self, event: &ModuleEvent) {
        match event {
            ModuleEvent::HttpRequest {
                process,
                method,
                url,
                status,
                closest,
            } => {
                bounded(
                    &mut self.http_requests,
                    &mut self.omitted.http_requests,
                    HttpRecord {
                        process: process.clone(),
                        method: method.clone(),
                        url: url.clone(),
                        status: *status,
                    },
                );
                if status.is_none() {
                    let text = hints::http_no_mock(method, url, closest);
                    self.diagnose(
                        Level::Warning,
                        DiagnosticKind::HttpNoMock,
                        Some(process),
                        text,
                    );
                }
            }
            ModuleEvent::HttpRefused {
                process,
                body,
                error,
            } => {
                let text = hints::http_refused(body, error);
                self.diagnose(
                    Level::Warning,
                    DiagnosticKind::HttpRefused,
                    Some(process),
                    text,
                );
            }
            ModuleEvent::VfsRefused {
                process,
                path,
                error,
            } => {
                let text = hints::vfs_refused(path, error);
                let kind = DiagnosticKind::VfsRefused;
                self.diagnose(Level::Warning, kind, Some(process), text);
            }
            ModuleEvent::StillHandling {
                process,
                module,
                request,
                seconds,
            } => {
                let text = hints::still_handling(module, request, *seconds);
                let kind = DiagnosticKind::ModuleStuck;
                self.diagnose(Level::Error, kind, Some(process), text);
            }
            ModuleEvent::VfsEscape { process, path } => {
                let text = hints::vfs_escape(path);
                let kind = DiagnosticKind::EscapeRefused;
                self.diagnose(Level::Error, kind, Some(process), text);
            }
            ModuleEvent::DatabaseEscape {
                process,
                module,
                what,
            } => {
                let text = hints::database_escape(module, what);
                let kind = DiagnosticKind::EscapeRefused;
                self.diagnose(Level::Error, kind, Some(process), text);
            }
            ModuleEvent::UnsafeDriveName {
                process,
                drive,
                params,
                parsed,
            } => {
                let text = hints::unsafe_drive_name(drive, params, parsed.as_ref());
                let kind = DiagnosticKind::UnsafeDriveName;
                self.diagnose(Level::Warning, kind, Some(process), text);
            }
            ModuleEvent::HttpUnreachablePath { process, path } => {
                let text = hints::http_unreachable_path(process, path);
                let kind = DiagnosticKind::UnreachablePath;
                self.diagnose(Level::Warning, kind, Some(process), text);
            }
            ModuleEvent::HttpServerDeadlock {
                process,
                channel_id,
            } => {
                let text = hints::http_server_deadlock(process, *channel_id);
                let kind = DiagnosticKind::HttpServerDeadlock;
                self.diagnose(Level::Error, kind, Some(process), text);
            }
            ModuleEvent::HttpServing { port, cookie } => {
                self.http_server = Some(HttpServerRecord {
                    port: *port,
                    cookie: cookie.clone(),
                    bindings: vec![],
                });
            }
            ModuleEvent::HttpBound {
                process,
                path,
                authenticated,
                content,
            } => {
                if let Some(server) = self.http_server.as_mut() {
                    server.bindings.retain(|b| b.path != *path);
                    server.bindings.push(BindingRecord {
                        process: process.clone(),
                        path: path.clone(),
                        authenticated: *authenticated,
                        static_content: *content,
                    });
                }
            }
            ModuleEvent::HttpServed {
                method,
                path,
                status,
                process,
            } => bounded(
                &mut self.http_served,
                &mut self.omitted.http_served,
                ServedRecord {
                    method: method.clone(),
                    path: path.clone(),
                    status: *status,
                    process: process.clone(),
                },
            ),
            ModuleEvent::DistroRequest {
                process,
                target,
                body,
            } => bounded(
                &mut self.distro_requests,
                &mut self.omitted.distro_requests,
                DistroRecord {
                    process: process.clone(),
                    target: target.clone(),
                    body: hints::excerpt(body),
                },
            ),
            ModuleEvent::Unreachable {
                process,
                module,
                action,
                answer,
            } => {
                let text = hints::unreachable(module, action, answer);
                self.diagnose(
                    Level::Warning,
                    DiagnosticKind::Unreachable,
                    Some(process),
                    text,
                );
            }
            ModuleEvent::NotEmulated {
                process,
                module,
                kind,
            } => {
                let text = hints::not_emulated(module, kind);
                self.diagnose(
                    Level::Warning,
                    DiagnosticKind::NotEmulated,
                    Some(process),
                    text,
                );
            }
        }
    }

    fn diagnose(
        &mut self,
        level: Level,
        kind: DiagnosticKind,
        process: Option<&ProcessId>,
        (message, hint): (String, Option<String>),
    ) {
        bounded(
            &mut self.diagnostics,
            &mut self.omitted.diagnostics,
            Diagnostic {
                node: self.node.clone(),
                at_ms: self.at_ms,
                level,
                kind,
                process: process.cloned(),
                message,
                hint,
            },
        );
    }

    /// The newest record of `id` (a name can be reused after an exit), as
    /// [`Report::record`] finds it.
    fn record_mut(&mut self, id: &ProcessId) -> Option<&mut ProcessRecord> {
        self.processes.iter_mut().rev().find(|p| p.id == *id)
    }

    /// The run is over: how each process still running stands. `parked`
    /// says what a process was doing with its mailbox, and whether
    /// anything waited in it.
    pub(crate) fn finish(
        &mut self,
        idle: bool,
        parked: impl Fn(&ProcessId) -> Option<(Reader, bool)>,
    ) {
        self.ended = if idle { Ended::Idle } else { Ended::Timeout };
        for record in &mut self.processes {
            if record.exit.kind != ExitKind::Running {
                continue;
            }
            let state = parked(&record.id);
            record.exit = match state {
                Some((Reader::Receiving, false)) => ExitRecord {
                    kind: ExitKind::Running,
                    detail: "waiting in receive with nothing in flight".into(),
                    limit: None,
                },
                Some((Reader::Awaiting(_), false)) if idle => ExitRecord {
                    kind: ExitKind::Running,
                    detail: "waiting for a response that nothing will send".into(),
                    limit: None,
                },
                _ if idle => ExitRecord {
                    kind: ExitKind::Running,
                    detail: "waiting with nothing in flight".into(),
                    limit: None,
                },
                _ => ExitRecord {
                    kind: ExitKind::TimedOut,
                    detail: "still executing or waiting for a response when the timeout passed"
                        .into(),
                    limit: None,
                },
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_prints_is_counted_past_the_first_ten_thousand() {
        let mut report = Report::default();
        for n in 0..KEPT + 5 {
            report.fold(
                &Event::Print {
                    source: ProcessId::new("loud", "pkg", "pub.os"),
                    verbosity: 0,
                    text: n.to_string(),
                    prefixed: true,
                },
                std::time::Duration::ZERO,
            );
        }
        assert_eq!(report.prints.len(), KEPT);
        assert_eq!(report.prints.last().unwrap().text, (KEPT - 1).to_string());
        assert_eq!(report.omitted.prints, 5);
        assert!(crate::report::render_summary(&report).contains("5 prints"));
    }
}
