//! Every sentence the harness adds to what a node prints: why something
//! happened and what fixes it. One function per kind of diagnostic, each
//! returning the message and the hint.

use crate::kernel::event::{BlockReason, Consequence, NoFileCause};
use crate::kernel::message::KernelMessage;
use crate::kernel::SkippedEntry;
use crate::types::{Address, Capability, ProcessId, Runtime};

type Text = (String, Option<String>);

pub fn capability_dropped_in_spawn(parent: &ProcessId, child: &str, cap: &Capability) -> Text {
    let issuer = &cap.issuer.process;
    (
        format!(
            "spawn of {child}: capability {{issuer: {}, params: {}}} dropped: {}",
            cap.issuer,
            cap.params,
            dropped_reason(parent)
        ),
        Some(format!(
            "add \"{issuer}\" (params {}) to the parent's request_capabilities in pkg/manifest.json",
            cap.params
        )),
    )
}

pub fn dropped_reason(parent: &ProcessId) -> String {
    format!(
        "{parent} does not hold this capability (and did not issue it); a real node drops it without a word"
    )
}

pub fn spawn_no_file(parent: &ProcessId, wasm_path: &str, cause: &NoFileCause) -> Text {
    let why = match cause {
        NoFileCause::ReadNotDelivered(kind) => format!(
            "could not read `{wasm_path}` through vfs: the read request failed with {kind}: the parent may not message vfs:distro:sys"
        ),
        NoFileCause::VfsError(body) => {
            format!("could not read `{wasm_path}` through vfs: vfs answered {}", excerpt(body))
        }
        NoFileCause::NoBytes => {
            format!("could not read `{wasm_path}` through vfs: it answered without the file's bytes")
        }
        NoFileCause::NameOfDeadProcess(child) => format!(
            "the name {child} belongs to a process whose task is gone (it never ran, or its restart \
             panicked); the kernel could not run it, so spawn returned NoFileAtPath"
        ),
    };
    let hint = match cause {
        NoFileCause::NameOfDeadProcess(_) => "pick another name for the child".to_string(),
        _ => format!(
            "the path must be `{}/pkg/<file>.wasm` (use format!(\"{{}}/pkg/child.wasm\", our.package_id())), \
             the file must be in pkg/, and the parent needs \"vfs:distro:sys\" in its request_capabilities",
            parent.package_id()
        ),
    };
    (format!("spawn returned NoFileAtPath: {why}"), Some(hint))
}

pub fn spawn_trapped(name: &str, trap: &str) -> Text {
    let suggestion = name
        .to_lowercase()
        .replace(|c: char| !c.is_ascii_alphanumeric(), "-");
    (
        format!("spawn trapped the caller: {trap}"),
        Some(format!(
            "use a name of a-z, 0-9 and `-`, e.g. {suggestion:?}"
        )),
    )
}

pub fn name_taken(child: &ProcessId) -> Text {
    (
        format!(
            "a process named {child} is already running: no new process was started; the \
             existing one received a `run` request from kernel:distro:sys, and spawn returned Ok"
        ),
        Some("pick a fresh name (or None for a random one) for every spawn".into()),
    )
}

pub fn grant_skipped(to: &ProcessId, params: &str) -> Text {
    (
        format!("grant of {params} to {to} skipped: no such process"),
        Some("a real node skips it silently; check the process id".into()),
    )
}

pub fn manifest_entry_skipped(id: &ProcessId, entry: &SkippedEntry) -> Text {
    let said = match &entry.printed {
        Some(line) => format!("it prints `{line}`"),
        None => "without a word".into(),
    };
    (
        format!(
            "pkg/manifest.json, entry {}: {} {} was skipped: {}. A node's app store installs the \
             package without it, {said}",
            id.process_name, entry.field, entry.entry, entry.reason
        ),
        Some(
            "write each entry as \"name:package:publisher\" (its messaging capability) or \
             {\"process\": \"name:package:publisher\", \"params\": <any JSON>}"
                .into(),
        ),
    )
}

pub fn initial_cap_dropped(caller: &ProcessId, id: &ProcessId, cap: &Capability) -> Text {
    (
        format!(
            "InitializeProcess from {caller} created {id} without {cap}: {caller} does not hold \
             it, and the kernel passes on only capabilities the caller holds here (a spawn also \
             passes on those the parent issued; InitializeProcess does not)"
        ),
        Some(format!(
            "grant it to {id} after creating it (GrantCapabilities), or have {caller} hold it"
        )),
    )
}

pub fn named_kernel(id: &ProcessId, from: &ProcessId) -> Text {
    (
        format!(
            "{from} sent a message to {id}, and a node's kernel takes every local message to a \
             process named `kernel`, in any package, as a kernel command: {id} never receives \
             it (a body that is no command is dropped with `kernel: couldn't parse command`, and \
             a request times out)"
        ),
        Some(format!(
            "rename the process `{}` (in pkg/manifest.json or the spawn); anything that may \
             message it can also give the kernel commands",
            id.process_name
        )),
    )
}

pub fn spins_on_node(id: &ProcessId) -> Text {
    (
        format!(
            "{id} computed without waiting for a message until its cpu_limit stopped it. A \
             Kinode 1.0 node has no preemption: a process computing holds one of the node's \
             worker threads (one per core) until it waits, and with as many such processes as \
             cores nothing else on the node runs, not even prints already made. The harness \
             stops it at cpu_limit and keeps the rest running"
        ),
        Some(
            "wait for a message (await_message) between chunks of work, or split the work into \
             messages to yourself"
                .into(),
        ),
    )
}

pub fn listed_twice(id: &ProcessId) -> Text {
    (
        format!(
            "pkg/manifest.json lists `{}` twice: a node's app store kills the process the first \
             entry made and creates it again from the second (its wasm, on_exit, public and \
             requests), applies both entries' grants, and runs it twice, so the process gets a \
             second `run` request from kernel:distro:sys",
            id.process_name
        ),
        Some("remove one of the two entries".into()),
    )
}

pub fn attached_cap_dropped(cap: &Capability) -> Text {
    (
        format!("capability {cap} attached to a message was dropped: this process neither holds nor issued it"),
        Some("a real node drops it without a word; attach only capabilities you hold".into()),
    )
}

pub fn not_rebooted(id: &ProcessId) -> Text {
    (
        format!(
            "{id} did not come back when the node rebooted: its on_exit is None, and a node \
             drops such processes from its process table when it shuts down"
        ),
        Some(format!(
            "to have it start again at every boot, give it \"on_exit\": \"Restart\" in \
             pkg/manifest.json (a spawned process: OnExit::Restart in its spawn); {} loses it \
             only after a clean shutdown, a crash keeps it",
            id.process_name
        )),
    )
}

pub fn remote_cap_rejected(node: &str, from: &Address, cap: &Capability) -> Text {
    (
        format!(
            "capability {cap} attached by {from} was removed before this process saw it: it \
             names {node} as its issuer, but its signature is {}'s, not {node}'s",
            from.node
        ),
        Some(format!(
            "a node believes only capabilities it signed itself, and a node signs every \
             capability it holds with its own key (save-capabilities re-signs them), so on \
             Kinode 1.0 a capability {node} issued never comes back to it from another node; \
             have {node} check what it gave by other means (its own records of who it granted)"
        )),
    )
}

pub fn unused_capability(process: &ProcessId, issuer: &Address) -> Text {
    (
        format!(
            "{process} was given messaging to {issuer} (pkg/manifest.json, request_capabilities) \
             and never messaged it nor passed it on"
        ),
        Some(format!(
            "if it does not need it, remove \"{}\" from request_capabilities of \"{}\": a \
             process holding only what it uses is safer to install",
            issuer.process, process.process_name
        )),
    )
}

pub fn unowned_cap_saved(cap: &Capability) -> Text {
    (
        format!("save-capabilities added {cap}, which it was never given"),
        Some(
            "Kinode 1.0 does not check ownership here; do not rely on it, later runtimes may"
                .into(),
        ),
    )
}

/// What holding `cap` lets a process do, if it is one of the capabilities
/// that give power over the whole node.
pub fn powers(cap: &Capability) -> Option<&'static str> {
    let issuer = &cap.issuer.process;
    let params: serde_json::Value = serde_json::from_str(&cap.params).unwrap_or_default();
    if *issuer == ProcessId::runtime("kernel") && params == "messaging" {
        Some(
            "command the kernel: start processes with any capabilities (InitializeProcess), \
             kill any process, grant any capability",
        )
    } else if *issuer == ProcessId::runtime("kernel") && params == "network" {
        Some("message other nodes")
    } else if *issuer == ProcessId::runtime("vfs") && params["root"] == true {
        Some("read and write every package's files")
    } else {
        None
    }
}

pub fn self_granted(cap: &Capability, power: &str) -> Text {
    (
        format!(
            "save-capabilities gave this process {cap}, which nobody gave it: it can now \
             {power}. A Kinode 1.0 node allows this (kinode/src/kernel/mod.rs adds what \
             save_capabilities asks for without checking that the caller holds it)"
        ),
        Some(
            "request the capability in pkg/manifest.json if the process needs it; if this \
             package is not yours, it is taking over the node"
                .into(),
        ),
    )
}

/// Why a message was blocked, in words, for the report's record.
pub fn block_reason(km: &KernelMessage, reason: BlockReason) -> String {
    let (source, target) = (&km.source.process, &km.target.process);
    match reason {
        BlockReason::NoSuchProcess => format!("no process {target} exists on this node"),
        BlockReason::Restarting => format!(
            "{target} is waiting out its restart backoff: the kernel has removed it until then"
        ),
        BlockReason::NoMessagingCapability => format!(
            "{target} is not public and {source} does not hold {{issuer: {}, params: \"messaging\"}}",
            km.target
        ),
        BlockReason::NoNetworkCapability => format!(
            "{source} may not send to other nodes (`{}`): it lacks the network capability",
            km.target.node
        ),
        BlockReason::Offline => format!(
            "there is no node `{}` in this network: the name registry does not know it, so \
             net answers Offline at once",
            km.target.node
        ),
        BlockReason::NodeDown => format!(
            "node `{}` is down: net's connection attempt was refused, so it answered Offline",
            km.target.node
        ),
        BlockReason::Unreachable => format!(
            "a partition cuts `{}` off from `{}`: net's connection attempt timed out after 5 s, \
             so it answered Offline",
            km.source.node, km.target.node
        ),
        BlockReason::Lost => format!(
            "it was on its way to `{}` when the connection dropped (a node crashed): lost, and \
             nobody is told",
            km.target.node
        ),
        BlockReason::TooLarge => format!(
            "it is about {} bytes, over the {} bytes net sends to another node: net broke the \
             connection, and the message was lost without a word to the sender (over TCP, which \
             nodes prefer, net prints nothing; over WebSockets it prints `net: tried to send \
             too-large message`)",
            km.wire_size(),
            crate::kernel::message::MESSAGE_MAX_SIZE
        ),
        BlockReason::TargetLacksNetwork => format!(
            "{target} lacks the network capability, which a process needs to receive messages \
             from other nodes: its kernel dropped the message from `{}`",
            km.source.node
        ),
        BlockReason::TargetNotRunning => {
            format!("{target} is not running (its wasm never ran, or its task is gone)")
        }
        BlockReason::SenderGone => format!("{source} is no longer in the process table"),
    }
}

pub fn blocked(km: &KernelMessage, reason: BlockReason, consequence: Consequence) -> Text {
    let what = match consequence {
        Consequence::Timeout => "the sender got SendError { kind: Timeout } at once",
        Consequence::Offline => "the sender got SendError { kind: Offline }",
        Consequence::Dropped => "it was dropped silently",
    };
    let message = format!(
        "{} to {} was not delivered ({what}): {}",
        km.kind(),
        km.target,
        block_reason(km, reason)
    );
    (message, block_hint(km, reason))
}

/// Whether runtime module `module` answers only processes that gave it
/// messaging: every one but the exempt senders (`kernel`, `vfs`, `state`).
fn answers_back(module: &ProcessId) -> bool {
    module.package_name == "distro"
        && module.publisher_node == "sys"
        && !["kernel", "vfs", "state"].contains(&module.process_name.as_str())
}

fn block_hint(km: &KernelMessage, reason: BlockReason) -> Option<String> {
    let (source, target) = (&km.source.process, &km.target.process);
    let is_module = target.package_name == "distro" && target.publisher_node == "sys";
    match reason {
        BlockReason::NoSuchProcess if km.source.node != km.target.node => Some(format!(
            "install the package on `{}` as well (a scenario's [[node]] packages, or --nodes), \
             or check the process id",
            km.target.node
        )),
        BlockReason::NoSuchProcess => target.process_name.contains('_').then(|| {
            format!(
                "Kinode 1.0 names runtime modules with hyphens: did you mean {}?",
                target.to_string().replace('_', "-")
            )
        }),
        BlockReason::NoNetworkCapability | BlockReason::TargetLacksNetwork => Some(format!(
            "set \"request_networking\": true for {} in pkg/manifest.json (a spawned process \
             gets it only through its parent's spawn request_capabilities: pass \
             {{issuer: \"our@kernel:distro:sys\", params: \"network\"}})",
            if reason == BlockReason::TargetLacksNetwork {
                &target.process_name
            } else {
                &source.process_name
            }
        )),
        BlockReason::Offline => Some(
            "a node can reach only the nodes the name registry knows: run the package on that \
             node too (`--nodes`, or a scenario's [[node]])"
                .into(),
        ),
        // A module answering a process that never gave it messaging: the
        // process needs the grant (and has the request, or it could not
        // have asked).
        BlockReason::NoMessagingCapability if km.request().is_none() && answers_back(source) => {
            Some(format!(
                "{source} answers only processes that gave it messaging: in pkg/manifest.json, \
                 for \"{}\", add \"{source}\" to grant_capabilities (a spawned process: to its \
                 parent's spawn grant_capabilities), or make it public",
                target.process_name
            ))
        }
        BlockReason::NoMessagingCapability if km.request().is_none() => Some(format!(
            "{source} may answer {target} only if {target} is public or gave {source} messaging: \
             add \"{source}\" to grant_capabilities of {} in pkg/manifest.json (or to a spawn's \
             grant_capabilities), or make it public",
            target.process_name
        )),
        // Asking a module: the whole change at once, since a module that
        // answers back needs the grant too.
        BlockReason::NoMessagingCapability if is_module && answers_back(target) => Some(format!(
            "in pkg/manifest.json, for \"{}\", add \"{target}\" to request_capabilities (to \
             ask it) and to grant_capabilities (so its answers come back): \
             \"request_capabilities\": [\"{target}\"], \"grant_capabilities\": [\"{target}\"] \
             (a spawned process gets both only through its parent's spawn)",
            source.process_name
        )),
        BlockReason::NoMessagingCapability if is_module => Some(format!(
            "add \"{target}\" to request_capabilities of {} in pkg/manifest.json (a spawned \
             process gets it only through its parent's spawn request_capabilities)",
            source.process_name
        )),
        BlockReason::NoMessagingCapability => Some(format!(
            "give {source} the capability {{issuer: {}, params: \"messaging\"}} (manifest \
             request_capabilities, spawn request_capabilities, or a grant), or make {target} public",
            km.target
        )),
        BlockReason::TooLarge => Some(format!(
            "send what {source} has for `{}` in parts under 10 MB each (a blob per request), or \
             let the other node fetch it (an http-server path); a request that expected a \
             response gets a Timeout",
            km.target.node
        )),
        BlockReason::Restarting
        | BlockReason::NodeDown
        | BlockReason::Unreachable
        | BlockReason::Lost
        | BlockReason::TargetNotRunning
        | BlockReason::SenderGone => None,
    }
}

pub fn stray_response(id: u64, from: &str) -> Text {
    (
        format!(
            "response {id} from {from} dropped: no request of ours with that id is waiting (it \
             timed out, or was never sent by us)"
        ),
        None,
    )
}

pub fn response_without_request() -> Text {
    (
        "send-response dropped: this process is not handling a request that expects a response"
            .into(),
        Some("answer only requests sent with expects_response (or an rsvp)".into()),
    )
}

pub fn mailbox_full() -> Text {
    (
        format!(
            "more than {} messages wait in this process's channel while it runs without reading",
            crate::kernel::CHANNEL_CAPACITY
        ),
        Some(
            "a real node's kernel stops routing every message until this process reads its \
             mailbox: read messages promptly"
                .into(),
        ),
    )
}

/// `built_for`: the runtime the component was built for, when that is
/// not this node's (`node`).
pub fn never_ran(id: &ProcessId, reason: &str, built_for: Option<Runtime>, node: Runtime) -> Text {
    let hint = match built_for {
        Some(built_for) => {
            let (built, this) = (built_for.profile(), node.profile());
            format!(
                "it was built with {}, for {}, and this node is {}, which provides only {}: \
                 rebuild it with {} (`{}`) or run with `--runtime {}`",
                built.sdk,
                built.name,
                this.name,
                this.interface,
                this.sdk,
                this.build_command,
                built.name
            )
        }
        None => "a real node fails the same way: the process stays registered and messages to \
                 it are dropped; rebuild it with `make build`"
            .into(),
    };
    (format!("{id} never ran: {reason}"), Some(hint))
}

pub fn restart_impossible(id: &ProcessId) -> Text {
    (
        format!(
            "{id} set its on-exit to Restart but was not started with it: the Kinode 1.0 kernel \
             has no restart backoff for it and its task panics when it exits (a release-built \
             node, which aborts on panic, stops entirely). It is not restarted, killed or \
             revoked: it stays registered, messages to it vanish, and a later spawn of its name \
             gets NoFileAtPath"
        ),
        Some(
            "give the process on_exit Restart where it is created (manifest on_exit or spawn's \
             on_exit) instead of switching to it with set_on_exit"
                .into(),
        ),
    )
}

pub fn restart_failed(id: &ProcessId) -> Text {
    (
        format!(
            "the restart of {id} failed: while it waited out its backoff a new process took its \
             name; that process received the kernel's `run` request instead"
        ),
        Some("do not spawn a name whose process is restarting".into()),
    )
}

pub fn http_refused(body: &str, error: &str) -> Text {
    (
        format!("http-client refused {} with {error}", excerpt(body)),
        Some(
            "send what kinode_process_lib::http::client builds; WebSockets are not emulated".into(),
        ),
    )
}

pub fn http_no_mock(method: &str, url: &str, closest: &[String]) -> Text {
    let nearest = if closest.is_empty() {
        String::new()
    } else {
        format!("; the closest mocks: {}", closest.join(", "))
    };
    (
        format!("http-client: no mock for {method} {url}; answered ExecuteRequestFailed{nearest}"),
        Some(format!(
            "add {{\"method\": \"{method}\", \"url\": \"{url}\", \"status\": 200, \"body\": \"...\"}} \
             to a JSON array and pass it with --http-mocks FILE"
        )),
    )
}

pub fn vfs_refused(path: &str, error: &str) -> Text {
    (
        format!("vfs refused {path}: {error}"),
        Some(
            "a process reads and writes its own package's drives freely; another package's \
             drive needs the vfs read or write capability that its creator holds (or root)"
                .into(),
        ),
    )
}

pub fn still_handling(module: &ProcessId, request: &str, seconds: f64) -> Text {
    (
        format!(
            "when the run ended, {module} had been handling this process's request {} for \
             {seconds:.1} s: it had not finished",
            excerpt(request)
        ),
        Some(
            "a node would be stuck on it too (an endless query, a hash of a huge file); the \
             harness stopped waiting and stopped the work"
                .into(),
        ),
    )
}

pub fn vfs_escape(path: &str) -> Text {
    (
        format!(
            "{path} leads out of the node home through a symbolic link: the harness refused it; \
             a node follows the link (kinode/src/vfs.rs normalises paths by their text, then \
             opens them with tokio::fs), so there this process reads and writes the host's files"
        ),
        Some(
            "do not make symbolic links in a drive (a tmp drive's links made through WASI \
             included) that point above it; if this package is not yours, do not run it on a \
             node"
                .into(),
        ),
    )
}

pub fn database_escape(module: &ProcessId, what: &str) -> Text {
    (
        format!(
            "{what}: {module} refused it here; a node does it (it joins the names onto its \
             directory and lets SQLite open any file), so there the file is written outside \
             the package's database directory"
        ),
        Some(
            "name databases and packages by their ids, and ATTACH only databases of the \
             package's own directory"
                .into(),
        ),
    )
}

/// `parsed`: what the capability's params say (`None`: not JSON).
pub fn unsafe_drive_name(drive: &str, params: &str, parsed: Option<&serde_json::Value>) -> Text {
    let message = match parsed {
        None => format!(
            "drive {drive:?} makes its capability params {params}, which are not JSON: a node \
             compares such params as null, so this drive's read and write capabilities also \
             pass the check for every other drive whose name makes invalid params (another \
             package's drive with a quote in its name, say)"
        ),
        Some(parsed) => format!(
            "drive {drive:?} makes its capability params {params}, which a node reads as \
             {parsed}: the creator was granted that capability, not one for its own drive (a \
             node builds the params with format!, so a quote in a drive name rewrites them)"
        ),
    };
    (
        message,
        Some(
            "a node lets this through (kinode/src/vfs.rs builds drive params with format!); keep \
             `\"` and `\\` out of drive names"
                .into(),
        ),
    )
}

pub fn unreachable(module: &ProcessId, action: &str, answer: &str) -> Text {
    (
        format!(
            "{action} to {module} was answered Err({answer}): the harness reaches no chain, \
             so it answers as a node with no RPC provider for the chain does"
        ),
        Some(
            "handle this error in your process (a node's providers fail too); test the chain \
             itself on a real node"
                .into(),
        ),
    )
}

pub fn http_unreachable_path(process: &ProcessId, path: &str) -> Text {
    (
        format!(
            "{process} bound {path}, which ends in `/`: a node drops one trailing `/` from every \
             request's path (kinode/src/http/utils.rs, normalize_path), so no request reaches it \
             but one ending in `//`; the others go to another binding or get 404. A path bound \
             as \"\" is stored so (format_path_with_process adds the `/`)"
        ),
        Some(
            "bind \"/\" for the process's own root (`/<process id>`), and no path ending in `/`"
                .into(),
        ),
    )
}

pub fn http_server_deadlock(process: &ProcessId, channel_id: u32) -> Text {
    (
        format!(
            "{process} sent WebSocketClose for its own channel {channel_id}: a node's http-server \
             deadlocks there (kinode/src/http/server.rs removes the channel from its DashMap \
             while holding a guard on the same entry) and never handles another message. So \
             here too: every later HTTP request for a process gets 408 after 15 s, bindings and \
             WebSocket pushes sent later are not acted on, and the process gets a WebSocketPush \
             of type Close when the client answers the close, but never WebSocketClose. The \
             stuck calls also hold threads of the node's runtime: on a small machine the whole \
             node can stop"
        ),
        Some(
            "do not close a channel from the process: let the client close it (send it a \
             message it answers by closing), and take WebSocketClose from http-server as the end"
                .into(),
        ),
    )
}

pub fn not_emulated(module: &ProcessId, kind: &str) -> Text {
    (
        format!("{kind} to {module} got no answer: host-harness does not emulate {module}"),
        Some("test this part on a real node, or mock it behind your own process".into()),
    )
}

/// The most of a message body a diagnostic quotes.
const EXCERPT_BYTES: usize = 1024;

/// `text` as a diagnostic quotes it: control characters escaped (so a
/// body cannot move the terminal's cursor or colour it), and cut after
/// [`EXCERPT_BYTES`] with its full size.
pub fn excerpt(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if out.len() >= EXCERPT_BYTES {
            return format!("{out}… ({} bytes)", text.len());
        }
        if c.is_control() && c != '\n' && c != '\t' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_and_escape_control_characters() {
        assert_eq!(excerpt("ok"), "ok");
        assert_eq!(excerpt("\u{1b}[31mred"), "\\u{1b}[31mred");
        let long = "x".repeat(50 << 20);
        let cut = excerpt(&long);
        assert!(cut.len() < 1100 && cut.ends_with(&format!("… ({} bytes)", 50 << 20)));
    }
}
