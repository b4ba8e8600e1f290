//! Runtime modules: plug-ins the composition root hands the node, each
//! under its kernel id and public flag (only `timer` is public), each
//! seeing its node only through a [`ModuleCtx`]. vfs, kv, sqlite,
//! http-server, http-client and timer answer with the node's request and
//! response bodies; `eth` answers as a node that reaches no chain
//! (`eth.rs`), `net` as a node with no peers (`net.rs`); the profile's
//! inert modules (`state`, `fd-manager`, ...) exist, so capability checks
//! behave as on a node, but answer nothing, and each message to them is
//! reported. `distro.rs` stands in for the processes every node runs.

mod database;
mod distro;
mod eth;
mod http_client;
mod http_server;
mod kv;
mod net;
mod sqlite;
mod timer;
pub(crate) mod vfs;

use std::sync::Arc;

use crate::kernel::event::ModuleEvent;
use crate::kernel::message::KernelMessage;
use crate::node::{HttpDoor, Module, ModuleCtx};
use crate::types::keys::seeded;
use crate::types::{ProcessId, Profile};

pub use http_client::HttpMock;
pub(crate) use http_server::app_cookie;

/// What the user configures about the modules.
#[derive(Debug, Clone, Default)]
pub(crate) struct ModuleConfig {
    /// Canned answers for http-client.
    pub http_mocks: Vec<HttpMock>,
    /// Where the HTTP server listens; 0 picks a free one.
    pub http_port: u16,
    /// The run's seed: the login cookie and the networking key follow it.
    pub seed: u64,
    /// The most bytes one request may make the harness hold (a vfs read,
    /// an unzip, an HTTP body).
    pub host_memory_limit: u64,
}

/// vfs, kv and sqlite serve only their own node's processes: a request
/// from another node is dropped, with the node's line at verbosity 1.
fn from_another_node(ctx: &ModuleCtx, km: &KernelMessage) -> bool {
    if km.source.node == ctx.node() {
        return false;
    }
    ctx.print(
        1,
        format!(
            "{}: got request from {}, but requests must come from our node {}",
            ctx.id().process_name,
            km.source.node,
            ctx.node()
        ),
    );
    true
}

/// A native process to register: its id, whether it is public, and what
/// handles its messages.
pub(crate) type Native = (ProcessId, bool, Arc<dyn Module>);

/// Every runtime module and distro stand-in a node of `profile` runs, and
/// the way into its HTTP server without a socket.
pub(crate) fn all(profile: &Profile, config: &ModuleConfig) -> (Vec<Native>, Arc<dyn HttpDoor>) {
    let module = |name: &str, public: bool, module: Arc<dyn Module>| {
        (ProcessId::runtime(name), public, module)
    };
    let http = Arc::new(http_server::HttpServer::new(
        config.http_port,
        seeded(config.seed, "login cookie")[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        usize::try_from(config.host_memory_limit).unwrap_or(usize::MAX),
    ));
    let door = http.door();
    let mut natives = vec![
        module(
            "vfs",
            false,
            Arc::new(vfs::Vfs::new(config.host_memory_limit)),
        ),
        module(
            "http-client",
            false,
            Arc::new(http_client::HttpClient::new(config.http_mocks.clone())),
        ),
        module("timer", true, Arc::new(timer::Timer::default())),
        module("kv", false, Arc::new(kv::Kv::default())),
        module("sqlite", false, Arc::new(sqlite::Sqlite::default())),
        module("http-server", false, http.clone()),
        module("eth", false, Arc::new(eth::Eth)),
        module(
            "net",
            false,
            Arc::new(net::Net::new(seeded(config.seed, "networking key"))),
        ),
    ];
    for name in profile.inert_modules {
        natives.push(module(name, false, Arc::new(Inert)));
    }
    let distro = Arc::new(distro::Distro::default());
    for &(id, public) in profile.distro {
        let id = ProcessId::parse(id).expect("distro ids are valid");
        natives.push((id, public, distro.clone()));
    }
    (natives, door)
}

/// The vfs path parser's promises, for the fuzz target: a parsed path is
/// a package, a drive and plain names, so it never climbs above its drive.
/// (It need not print as it parses: like a node, the parser strips leading
/// `/`s and then `\`s once, so `/\\a:b/d` is package `\a:b`, printed
/// `/\a:b/d`, which parses as `a:b`.)
pub(crate) fn fuzz_vfs_path(text: &str) {
    if let Ok(path) = vfs::VfsPath::parse(text) {
        let plain = |p: &str| !p.is_empty() && p != "." && p != ".." && !p.contains('/');
        let drive: Vec<&str> = path.drive.trim_start_matches('/').split('/').collect();
        assert!(path.drive.starts_with('/') && drive.len() == 2);
        assert!(drive.iter().all(|p| plain(p)), "{path:?}");
        assert!(path.rest.iter().all(|p| plain(p)), "{path:?}");
        assert_eq!(drive[0], path.package.to_string());
    }
}

/// A module the harness registers but does not emulate.
struct Inert;

impl Module for Inert {
    fn handle(&self, ctx: &ModuleCtx, km: KernelMessage) {
        ctx.note(ModuleEvent::NotEmulated {
            process: km.source.process.clone(),
            module: km.target.process.clone(),
            kind: km.kind(),
        });
    }
}
