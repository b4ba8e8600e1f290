//! What kv and sqlite share on a 1.0 node: the request envelope
//! (`{"package_id": {..}, "db": .., "action": ..}`), the capabilities a
//! database's `Open` hands its opener, the package check, and how answers
//! go back (successes only when expected, echoing metadata; errors always,
//! without it).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::kernel::event::ModuleEvent;
use crate::kernel::message::{Answer, KernelMessage};
use crate::node::ModuleCtx;
use crate::types::{Address, Capability, LazyLoadBlob, ProcessId};

/// `PackageId` as these modules write it: a struct, not `pkg:pub`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PackageKey {
    pub package_name: String,
    pub publisher_node: String,
}

impl PackageKey {
    pub fn of(process: &ProcessId) -> Self {
        PackageKey {
            package_name: process.package_name.clone(),
            publisher_node: process.publisher_node.clone(),
        }
    }

    fn display(&self) -> String {
        format!("{}:{}", self.package_name, self.publisher_node)
    }
}

/// One request to kv or sqlite.
#[derive(Debug, Deserialize)]
pub struct DbRequest<A> {
    pub package_id: PackageKey,
    pub db: String,
    pub action: A,
}

/// A database: whose, and its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DbKey {
    pub package: PackageKey,
    pub db: String,
}

impl DbKey {
    /// Where it lives: `<module root>/<package:publisher>/<db>`.
    pub fn dir(&self, root: &Path) -> PathBuf {
        root.join(self.package.display()).join(&self.db)
    }

    /// The capability of `kind` (`read` or `write`) on this database,
    /// issued by `module`.
    pub fn capability(&self, node: &str, module: &str, kind: &str) -> Capability {
        let params = serde_json::json!({
            "kind": kind,
            "db_key": [self.package, self.db],
        });
        Capability::new(
            Address::new(node, ProcessId::runtime(module)),
            params.to_string(),
        )
    }

    /// Whether `process` holds the `kind` capability on this database.
    pub fn allows(&self, ctx: &ModuleCtx, process: &ProcessId, kind: &str) -> bool {
        let cap = self.capability(ctx.node(), &ctx.id().process_name, kind);
        ctx.holds(process, &cap)
    }

    /// `Open`: the opener gets read and write, through the oracle.
    pub fn grant_to(&self, ctx: &ModuleCtx, process: &ProcessId) {
        let module = &ctx.id().process_name;
        let caps = ["read", "write"].map(|kind| self.capability(ctx.node(), module, kind));
        ctx.add_capabilities(process, caps.to_vec());
    }
}

/// A request's database and action; `None` if it is malformed (not a
/// request, not the envelope, or names that would lead out of the
/// module's directory, which are also reported).
pub fn parse<A: serde::de::DeserializeOwned>(
    ctx: &ModuleCtx,
    km: &KernelMessage,
) -> Option<(DbKey, A)> {
    let parsed: DbRequest<A> = serde_json::from_slice(&km.request()?.body).ok()?;
    let PackageKey {
        package_name,
        publisher_node,
    } = &parsed.package_id;
    let names = [
        ("package_id.package_name", package_name),
        ("package_id.publisher_node", publisher_node),
        ("db", &parsed.db),
    ];
    if let Some((field, name)) = names.iter().find(|(_, name)| !safe_name(name)) {
        if !name.is_empty() {
            ctx.note(ModuleEvent::DatabaseEscape {
                process: km.source.process.clone(),
                module: ctx.id().clone(),
                what: format!("a request whose {field} is {name:?}"),
            });
        }
        return None;
    }
    let key = DbKey {
        package: parsed.package_id,
        db: parsed.db,
    };
    Some((key, parsed.action))
}

/// Whether a name stays one directory under its parent: a node joins any
/// name onto its path (`..` and `/` included); the harness, running on the
/// developer's machine, refuses those as malformed.
pub fn safe_name(db: &str) -> bool {
    !db.is_empty() && db != "." && db != ".." && !db.contains(['/', '\\', '\0'])
}

/// Whether `process` belongs to the package named in the request (Open
/// and RemoveDb need it).
pub fn same_package(process: &ProcessId, package: &PackageKey) -> bool {
    PackageKey::of(process) == *package
}

/// A success: only to a request that expects it (or has an rsvp), with
/// the request's metadata.
pub fn answer_ok(
    ctx: &ModuleCtx,
    km: &KernelMessage,
    body: serde_json::Value,
    blob: Option<Vec<u8>>,
) {
    let answer = Answer {
        metadata: km.request().and_then(|r| r.metadata.clone()),
        blob: blob.map(|bytes| LazyLoadBlob {
            mime: Some("application/octet-stream".into()),
            bytes,
        }),
        ..Answer::new(body.to_string())
    };
    ctx.respond(km, answer);
}

/// An error: always sent (to the rsvp or the source), with no metadata,
/// and printed at verbosity 1 as the node does: `kv: {error}` or
/// `sqlite: {error}`.
pub fn answer_err(ctx: &ModuleCtx, km: &KernelMessage, error: serde_json::Value, text: String) {
    ctx.print(1, format!("{}: {text}", ctx.id().process_name));
    let body = serde_json::json!({ "Err": error });
    ctx.respond(km, Answer::always(body.to_string()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_stay_inside_their_package() {
        assert!(safe_name("store"));
        assert!(safe_name("my.db"));
        for bad in ["", ".", "..", "../x", "a/b", "/etc", "a\\b", "nul\0"] {
            assert!(!safe_name(bad), "{bad:?}");
        }
    }
}
