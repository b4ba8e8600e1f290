//! Everything the kernel (and the modules beside it) decided, as data. The
//! node prints `Print` events on the terminal; `report/` folds every event
//! into the report and turns the ones a real node keeps quiet about into
//! diagnostics with hints. No prose is written here.

use crate::types::{Address, Capability, OnExit, PackageId, ProcessId};

use super::message::KernelMessage;

#[derive(Debug, Clone)]
pub enum Event {
    /// A line on the node's terminal, shown if its verbosity is at most
    /// the terminal's. A process's `print-to-terminal` shows as
    /// `{package}:{publisher}: text` (`prefixed`); the kernel's and the
    /// modules' own lines show bare.
    Print {
        source: ProcessId,
        verbosity: u8,
        text: String,
        prefixed: bool,
    },
    Installed {
        package: PackageId,
    },
    /// The app store skipped a capability entry of `id`'s manifest entry.
    ManifestEntrySkipped {
        id: ProcessId,
        entry: super::install::SkippedEntry,
    },
    /// `InitializeProcess` left out a capability its caller does not hold.
    InitialCapDropped {
        caller: ProcessId,
        id: ProcessId,
        capability: Capability,
    },
    /// A message to `id`, a process named `kernel` outside `distro:sys`,
    /// went to the kernel's command handler, as on a node.
    TakenByKernel {
        id: ProcessId,
        from: ProcessId,
    },
    /// A message put in `to`'s mailbox (recorded for a timeline only).
    Delivered {
        message: Box<KernelMessage>,
    },
    /// A request's error handed to its sender (for a timeline only).
    ErrorDelivered {
        to: ProcessId,
        id: u64,
        error: crate::types::SendError,
    },
    /// `holder` gained or lost `capability` (for a timeline only).
    CapChanged {
        holder: ProcessId,
        capability: Capability,
        added: bool,
    },
    /// What `issuer` gave through the oracle was taken back: it was
    /// killed (for a timeline only).
    Revoked {
        issuer: ProcessId,
    },
    /// The manifest lists `id` twice: the later entry replaced it.
    ListedTwice {
        id: ProcessId,
    },
    /// A process entered the process table (installed or spawned).
    Created {
        id: ProcessId,
        parent: Option<ProcessId>,
        wasm_path: String,
        public: bool,
        on_exit: OnExit,
    },
    /// The kernel starts it (its `init` is to run), holding these.
    Started {
        id: ProcessId,
        capabilities: Vec<Capability>,
    },
    /// `init` ended (not for processes that never ran).
    Exited {
        id: ProcessId,
        how: Exit,
        stdout: String,
        stderr: String,
    },
    /// Killed by a `KillProcess` command.
    Killed {
        id: ProcessId,
    },
    /// The process never ran: its wasm did not load or instantiate.
    NeverRan {
        id: ProcessId,
        reason: String,
        /// Built for the other runtime (whose process interface this node
        /// does not link): the runtime it was built for.
        built_for: Option<crate::types::Runtime>,
    },
    /// `set-on-exit(Restart)` on a process that did not start with it: the
    /// 1.0 kernel has no backoff entry for it and its task panics at exit.
    RestartImpossible {
        id: ProcessId,
    },
    Restarting {
        id: ProcessId,
        /// How long the kernel's backoff waits first, in milliseconds.
        after_ms: u64,
    },
    /// A process the node's clean shutdown dropped from its table (its
    /// on-exit is `None`), so the reboot did not start it.
    NotRebooted {
        id: ProcessId,
    },
    /// A pending restart found its name taken by a newer process.
    RestartFailed {
        id: ProcessId,
    },
    OnExitChanged {
        id: ProcessId,
        on_exit: OnExit,
    },
    Spawn(SpawnEvent),
    /// A grant to a process that does not exist, skipped.
    GrantSkipped {
        issuer: ProcessId,
        to: ProcessId,
        params: String,
    },
    /// A capability attached to a message that the sender neither holds
    /// nor issued, removed from it.
    AttachedCapDropped {
        holder: ProcessId,
        capability: Capability,
    },
    /// A manifest requested messaging to `issuer` for `process`, which
    /// never messaged it nor passed it on in the run.
    UnusedCapability {
        process: ProcessId,
        issuer: Address,
    },
    /// `save-capabilities` of a capability the caller was never given.
    UnownedCapSaved {
        holder: ProcessId,
        capability: Capability,
    },
    Blocked {
        message: Box<KernelMessage>,
        reason: BlockReason,
        /// What the sender got: an error at once, or nothing.
        consequence: Consequence,
    },
    /// A capability attached to a message from another node claimed this
    /// node as its issuer without this node's signature: removed before
    /// `holder` saw the message.
    RemoteCapRejected {
        holder: ProcessId,
        from: Address,
        capability: Capability,
    },
    /// A response or error arrived for a request the process no longer
    /// waits for (it timed out, or the process never sent it).
    StrayResponse {
        process: ProcessId,
        id: u64,
        from: String,
    },
    /// `send-response` with no request to answer.
    ResponseWithoutRequest {
        process: ProcessId,
    },
    /// More messages wait in the process's channel than the kernel's
    /// 100 slots: a real node stops routing until it reads.
    MailboxFull {
        id: ProcessId,
    },
    Module(ModuleEvent),
}

/// How `init` ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    Returned,
    /// The text is stderr if the process wrote any, else the trap's cause.
    Trapped(String),
    /// Trapped by a harness limit (a node has none), with the reason.
    LimitReached(Limit, String),
}

/// A harness limit a process hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    CpuLimit,
    MemoryLimit,
}

#[derive(Debug, Clone)]
pub struct SpawnEvent {
    pub parent: ProcessId,
    pub name: Option<String>,
    pub wasm_path: String,
    pub outcome: SpawnOutcome,
    /// Capabilities the parent passed but could not give.
    pub dropped: Vec<Capability>,
}

#[derive(Debug, Clone)]
pub enum SpawnOutcome {
    /// A new child was created and started.
    Started(ProcessId),
    /// The name belonged to a running process: it got `run`, spawn said Ok.
    Existing(ProcessId),
    /// `NoFileAtPath`, and why.
    NoFileAtPath(NoFileCause),
    /// The caller trapped (a bad name), with the kernel's words.
    Trapped(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoFileCause {
    /// The read request to vfs was blocked or failed with this kind.
    ReadNotDelivered(String),
    /// vfs answered this error body.
    VfsError(String),
    /// vfs answered without the file's bytes.
    NoBytes,
    /// The name belongs to a process whose task is gone.
    NameOfDeadProcess(ProcessId),
}

/// Why a message was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockReason {
    /// No process with the target's id exists on this node.
    NoSuchProcess,
    /// The target is waiting out its restart backoff (removed until then).
    Restarting,
    /// The target is not public and the sender lacks `messaging` from it.
    NoMessagingCapability,
    /// The target is on another node and the sender lacks the network
    /// capability.
    NoNetworkCapability,
    /// The target's node is not in this network (no name registry entry):
    /// `net` answers `Offline` at once.
    Offline,
    /// The target's node is down (crashed): `net`'s connection attempt is
    /// refused, and it answers `Offline`.
    NodeDown,
    /// A partition cuts the sender's node off from the target's: `net`'s
    /// connection attempt times out after 5 s, and it answers `Offline`.
    Unreachable,
    /// The message was on its way when the connection between the nodes
    /// dropped (a node crashed): lost without a word.
    Lost,
    /// The message is larger than the 10,485,800 bytes `net` sends to
    /// another node: net broke the connection and the message was lost.
    TooLarge,
    /// A message from another node to a process that lacks the network
    /// capability: the receiving kernel drops it.
    TargetLacksNetwork,
    /// The target never ran (or its task is gone): the message vanishes.
    TargetNotRunning,
    /// The sender is no longer in the process table (it was killed).
    SenderGone,
}

/// What the sender of a blocked message got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Consequence {
    /// `SendError { kind: Timeout }` at once.
    Timeout,
    /// `SendError { kind: Offline }` (at once for a local refusal, after
    /// `net`'s connection attempt for another node).
    Offline,
    /// Nothing: the message just vanished.
    Dropped,
}

/// What a runtime module noticed.
#[derive(Debug, Clone)]
pub enum ModuleEvent {
    /// An outgoing HTTP request and the mock's status (None: no mock).
    HttpRequest {
        process: ProcessId,
        method: String,
        url: String,
        status: Option<u16>,
        /// With no mock: the configured mocks closest to the request.
        closest: Vec<String>,
    },
    /// http-client refused a request body with this error body.
    HttpRefused {
        process: ProcessId,
        body: String,
        error: String,
    },
    /// vfs refused an action for want of a capability (`NoReadCap`,
    /// `NoWriteCap`).
    VfsRefused {
        process: ProcessId,
        path: String,
        error: String,
    },
    /// When the run ended, `module` was still handling this request (it
    /// blocks: an endless query, a huge file).
    StillHandling {
        process: ProcessId,
        module: ProcessId,
        /// The start of the request's body.
        request: String,
        seconds: f64,
    },
    /// A vfs action whose path leads out of the node home through a
    /// symbolic link: refused here, followed on a node.
    VfsEscape { process: ProcessId, path: String },
    /// A database request that would touch a file outside the package's
    /// database directory (`what` says how): refused here, done on a node.
    DatabaseEscape {
        process: ProcessId,
        module: ProcessId,
        what: String,
    },
    /// `CreateDrive` of a drive whose name, written into the capability's
    /// params as a node writes it, is not the JSON of that drive: `parsed`
    /// is what the params say instead (`None`: not JSON at all).
    UnsafeDriveName {
        process: ProcessId,
        drive: String,
        params: String,
        parsed: Option<serde_json::Value>,
    },
    /// The HTTP server is listening.
    HttpServing { port: u16, cookie: String },
    /// A process bound an HTTP path.
    HttpBound {
        process: ProcessId,
        /// As stored: `/{process}{path}`.
        path: String,
        authenticated: bool,
        /// Static content the server answers GET with itself.
        content: bool,
    },
    /// A process bound a path no request reaches (it ends in `/`, and a
    /// node drops one trailing `/` from every request's path).
    HttpUnreachablePath { process: ProcessId, path: String },
    /// A process's `WebSocketClose` for its own channel hung http-server,
    /// as it hangs a node's.
    HttpServerDeadlock { process: ProcessId, channel_id: u32 },
    /// An HTTP request the server answered.
    HttpServed {
        method: String,
        path: String,
        status: u16,
        process: Option<ProcessId>,
    },
    /// A request to a distro process (homepage, app store, ...).
    DistroRequest {
        process: ProcessId,
        target: ProcessId,
        body: String,
    },
    /// A module the node would reach the outside world for answered as
    /// it answers when it cannot (eth without a chain).
    Unreachable {
        process: ProcessId,
        module: ProcessId,
        action: &'static str,
        answer: &'static str,
    },
    /// A message to a module the harness registers but does not emulate.
    NotEmulated {
        process: ProcessId,
        module: ProcessId,
        kind: &'static str,
    },
}
