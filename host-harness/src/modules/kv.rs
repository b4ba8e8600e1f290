//! `kv:distro:sys`: a key-value store per (package, db) under
//! `<home>/kv/<package:publisher>/<db>/`, with the 1.0 node's API, errors
//! and capability rules. A node uses RocksDB; the harness uses redb (one
//! file, `db.redb`, per database), a pure-Rust embedded store with real
//! transactions that builds in seconds. Values travel in blobs: Set's
//! request blob, Get's answer blob.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use redb::{Database, ReadableDatabase, TableDefinition};
use serde::Deserialize;
use serde_json::json;

use crate::kernel::message::KernelMessage;
use crate::node::{Module, ModuleCtx};
use crate::util::lock;

use super::database::{answer_err, answer_ok, parse, same_package, DbKey};

const TABLE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("kv");

#[derive(Debug, Deserialize)]
enum KvAction {
    Open,
    RemoveDb,
    Set { key: Vec<u8>, tx_id: Option<u64> },
    Delete { key: Vec<u8>, tx_id: Option<u64> },
    Get(Vec<u8>),
    BeginTx,
    Commit { tx_id: u64 },
}

/// An operation waiting in a transaction: a key and, for Set, its value.
type Op = (Vec<u8>, Option<Vec<u8>>);

#[derive(Debug)]
enum KvError {
    KeyNotFound,
    NoTx(u64),
    NoWriteCap,
    NoReadCap,
    MismatchingPackageId,
    MalformedRequest,
    /// The store's own error (a node says RocksDBError).
    Store(String),
    Io(String),
}

impl KvError {
    fn json(&self) -> serde_json::Value {
        match self {
            KvError::KeyNotFound => json!("KeyNotFound"),
            KvError::NoTx(id) => json!({ "NoTx": id }),
            KvError::NoWriteCap => json!("NoWriteCap"),
            KvError::NoReadCap => json!("NoReadCap"),
            KvError::MismatchingPackageId => json!("MismatchingPackageId"),
            KvError::MalformedRequest => json!("MalformedRequest"),
            KvError::Store(e) => json!({ "RocksDBError": e }),
            KvError::Io(e) => json!({ "IOError": e }),
        }
    }

    fn text(&self) -> String {
        match self {
            KvError::KeyNotFound => "key not found".into(),
            KvError::NoTx(id) => format!("no transaction {id} found"),
            KvError::NoWriteCap => "no write capability for requested DB".into(),
            KvError::NoReadCap => "no read capability for requested DB".into(),
            KvError::MismatchingPackageId => {
                "request to open or remove DB with mismatching package ID".into()
            }
            KvError::MalformedRequest => "kv got a malformed request that either failed to \
                                          deserialize or was missing a required blob"
                .into(),
            KvError::Store(e) => format!("RocksDB internal error: {e}"),
            KvError::Io(e) => format!("IO error: {e}"),
        }
    }
}

fn store_error(e: impl std::fmt::Display) -> KvError {
    KvError::Store(e.to_string())
}

#[derive(Default)]
pub struct Kv {
    open: Mutex<HashMap<DbKey, Arc<Database>>>,
    /// Transactions by id; like the node's, not tied to a database.
    txs: Mutex<HashMap<u64, Vec<Op>>>,
}

impl Kv {
    /// Opens (creating if needed) a database, as the node does before
    /// every action.
    fn database(&self, root: &Path, key: &DbKey) -> Result<Arc<Database>, KvError> {
        if let Some(db) = lock(&self.open).get(key) {
            return Ok(db.clone());
        }
        let dir = key.dir(root);
        std::fs::create_dir_all(&dir).map_err(|e| KvError::Io(e.to_string()))?;
        let db = Database::create(dir.join("db.redb")).map_err(store_error)?;
        let write = db.begin_write().map_err(store_error)?;
        write.open_table(TABLE).map_err(store_error)?;
        write.commit().map_err(store_error)?;
        let db = Arc::new(db);
        lock(&self.open).insert(key.clone(), db.clone());
        Ok(db)
    }

    fn apply(db: &Database, ops: Vec<Op>) -> Result<(), KvError> {
        let write = db.begin_write().map_err(store_error)?;
        {
            let mut table = write.open_table(TABLE).map_err(store_error)?;
            for (key, value) in ops {
                match value {
                    Some(value) => table.insert(key.as_slice(), value.as_slice()),
                    None => table.remove(key.as_slice()).map(|_| None),
                }
                .map_err(store_error)?;
            }
        }
        write.commit().map_err(store_error)
    }

    fn run(
        &self,
        ctx: &ModuleCtx,
        km: &KernelMessage,
    ) -> Result<(serde_json::Value, Option<Vec<u8>>), KvError> {
        let (key, action) = parse::<KvAction>(ctx, km).ok_or(KvError::MalformedRequest)?;
        let source = &km.source.process;
        let root = ctx.home().kv();
        let need = |kind: &str, error: KvError| {
            if key.allows(ctx, source, kind) {
                Ok(())
            } else {
                Err(error)
            }
        };
        match &action {
            KvAction::Open | KvAction::RemoveDb if !same_package(source, &key.package) => {
                return Err(KvError::MismatchingPackageId)
            }
            KvAction::Open => key.grant_to(ctx, source),
            KvAction::RemoveDb => {
                lock(&self.open).remove(&key);
                std::fs::remove_dir_all(key.dir(&root)).map_err(|e| KvError::Io(e.to_string()))?;
            }
            KvAction::Get(_) => need("read", KvError::NoReadCap)?,
            _ => need("write", KvError::NoWriteCap)?,
        }
        // As on a node, every action opens the database first (so
        // RemoveDb leaves an empty one behind).
        let db = self.database(&root, &key)?;
        let blob = km.blob.as_ref().map(|b| b.bytes.clone());
        let queue = |tx_id: u64, op: Op| match lock(&self.txs).get_mut(&tx_id) {
            Some(ops) => {
                ops.push(op);
                Ok(())
            }
            None => Err(KvError::NoTx(tx_id)),
        };
        match action {
            KvAction::Open | KvAction::RemoveDb => {}
            KvAction::Set { key, tx_id } => {
                let value = blob.ok_or(KvError::MalformedRequest)?;
                match tx_id {
                    Some(tx_id) => queue(tx_id, (key, Some(value)))?,
                    None => Kv::apply(&db, vec![(key, Some(value))])?,
                }
            }
            KvAction::Delete { key, tx_id } => match tx_id {
                Some(tx_id) => queue(tx_id, (key, None))?,
                None => Kv::apply(&db, vec![(key, None)])?,
            },
            KvAction::Get(key) => {
                let read = db.begin_read().map_err(store_error)?;
                let table = read.open_table(TABLE).map_err(store_error)?;
                let value = table.get(key.as_slice()).map_err(store_error)?;
                let value = value.ok_or(KvError::KeyNotFound)?.value().to_vec();
                return Ok((json!({ "Get": key }), Some(value)));
            }
            KvAction::BeginTx => {
                let tx_id: u64 = ctx.random();
                lock(&self.txs).insert(tx_id, vec![]);
                return Ok((json!({ "BeginTx": { "tx_id": tx_id } }), None));
            }
            KvAction::Commit { tx_id } => {
                let ops = lock(&self.txs).remove(&tx_id).ok_or(KvError::NoTx(tx_id))?;
                Kv::apply(&db, ops)?;
            }
        }
        Ok((json!("Ok"), None))
    }
}

impl Module for Kv {
    fn blocking(&self, _ctx: &ModuleCtx, _km: &KernelMessage) -> bool {
        true
    }

    /// A node runs each request in a task of its own (kinode/src/vfs.rs,
    /// kv.rs and sqlite.rs at v1.0.0: a `tokio::spawn` per request).
    fn concurrent(&self) -> bool {
        true
    }

    fn handle(&self, ctx: &ModuleCtx, km: KernelMessage) {
        if super::from_another_node(ctx, &km) || km.request().is_none() {
            return;
        }
        match self.run(ctx, &km) {
            Ok((body, blob)) => answer_ok(ctx, &km, body, blob),
            Err(error) => answer_err(ctx, &km, error.json(), error.text()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::node::fake::{body, request, FakeNode};
    use crate::types::ProcessId;

    #[test]
    fn open_grants_the_opener_then_values_round_trip_and_others_are_refused() {
        let node = FakeNode::new();
        let ctx = node.module("kv");
        let app = node.install("app:me.os", &["app"], &[]).remove(0);
        let other = node.install("other:me.os", &["other"], &[]).remove(0);
        for process in [&app, &other] {
            node.may_message(ctx.id(), process);
        }
        let kv = Kv::default();
        let db = json!({ "package_name": "app", "publisher_node": "me.os" });
        let act = |from: &ProcessId, action: serde_json::Value, value: Option<&[u8]>| {
            let body = json!({ "package_id": db, "db": "store", "action": action });
            kv.handle(&ctx, request(from, "kv", body, value.map(<[u8]>::to_vec)));
        };
        act(&app, json!("Open"), None);
        act(
            &app,
            json!({ "Set": { "key": [1], "tx_id": null } }),
            Some(b"v1"),
        );
        act(&app, json!({ "Get": [1] }), None);
        act(&app, json!({ "Get": [2] }), None);
        let answers = node.delivered(&app);
        let bodies: Vec<_> = answers.iter().map(body).collect();
        assert_eq!(
            bodies,
            [
                json!("Ok"),
                json!("Ok"),
                json!({ "Get": [1] }),
                json!({ "Err": "KeyNotFound" })
            ]
        );
        assert_eq!(answers[2].blob.as_ref().unwrap().bytes, b"v1");
        assert!(ctx.home().kv().join("app:me.os/store/db.redb").is_file());
        // Its error line, at verbosity 1, says whose it is, as a node's does.
        let printed = node.events().into_iter().any(|e| {
            matches!(e, crate::kernel::Event::Print { verbosity: 1, ref text, .. }
                if text.starts_with("kv: ") && text.contains("key not found"))
        });
        assert!(printed, "{:?}", node.events());
        // Another package: not its database to open, and no read capability.
        act(&other, json!("Open"), None);
        act(&other, json!({ "Get": [1] }), None);
        let refused: Vec<_> = node.delivered(&other).iter().map(body).collect();
        assert_eq!(
            refused,
            [
                json!({ "Err": "MismatchingPackageId" }),
                json!({ "Err": "NoReadCap" })
            ]
        );
    }

    #[test]
    fn a_transaction_applies_at_commit() {
        let node = FakeNode::new();
        let ctx = node.module("kv");
        let app = node.install("app:me.os", &["app"], &[]).remove(0);
        node.may_message(ctx.id(), &app);
        let kv = Kv::default();
        let db = json!({ "package_name": "app", "publisher_node": "me.os" });
        let act = |action: serde_json::Value, value: Option<&[u8]>| {
            let sent = json!({ "package_id": db, "db": "store", "action": action });
            kv.handle(&ctx, request(&app, "kv", sent, value.map(<[u8]>::to_vec)));
            body(&node.delivered(&app)[0])
        };
        act(json!("Open"), None);
        let tx = act(json!("BeginTx"), None)["BeginTx"]["tx_id"].clone();
        act(
            json!({ "Set": { "key": [7], "tx_id": tx } }),
            Some(b"later"),
        );
        assert_eq!(
            act(json!({ "Get": [7] }), None),
            json!({ "Err": "KeyNotFound" })
        );
        assert_eq!(act(json!({ "Commit": { "tx_id": tx } }), None), json!("Ok"));
        assert_eq!(act(json!({ "Get": [7] }), None), json!({ "Get": [7] }));
    }
}
