//! `kv:distro:sys`: a key-value store per (package, db) under
//! `<home>/kv/<package:publisher>/<db>/`, with the 1.0 node's API, errors
//! and capability rules. A node uses RocksDB; the harness uses redb (one
//! file, `db.redb`, per database), a pure-Rust embedded store with real
//! transactions that builds in seconds. Values travel in blobs: Set's
//! request blob, Get's answer blob.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use redb::{Database, ReadableDatabase, TableDefinition};
use serde::Deserialize;
use serde_json::json;

use crate::kernel::message::KernelMessage;
use crate::node::{lock, Port};

use super::database::{answer_err, answer_ok, parse, same_package, DbKey};
use super::Module;

const MODULE: &str = "kv";
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

pub struct Kv {
    root: PathBuf,
    open: Mutex<HashMap<DbKey, Arc<Database>>>,
    /// Transactions by id; like the node's, not tied to a database.
    txs: Mutex<HashMap<u64, Vec<Op>>>,
}

impl Kv {
    pub fn new(root: PathBuf) -> Self {
        Kv {
            root,
            open: Mutex::new(HashMap::new()),
            txs: Mutex::new(HashMap::new()),
        }
    }

    /// Opens (creating if needed) a database, as the node does before
    /// every action.
    fn database(&self, key: &DbKey) -> Result<Arc<Database>, KvError> {
        if let Some(db) = lock(&self.open).get(key) {
            return Ok(db.clone());
        }
        let dir = key.dir(&self.root);
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
        port: &Arc<dyn Port>,
        km: &KernelMessage,
    ) -> Result<(serde_json::Value, Option<Vec<u8>>), KvError> {
        let (key, action) = parse::<KvAction>(km).ok_or(KvError::MalformedRequest)?;
        let source = &km.source.process;
        let need = |kind: &str, error: KvError| {
            if key.allows(port, MODULE, source, kind) {
                Ok(())
            } else {
                Err(error)
            }
        };
        match &action {
            KvAction::Open | KvAction::RemoveDb if !same_package(source, &key.package) => {
                return Err(KvError::MismatchingPackageId)
            }
            KvAction::Open => key.grant_to(port, MODULE, source),
            KvAction::RemoveDb => {
                lock(&self.open).remove(&key);
                std::fs::remove_dir_all(key.dir(&self.root))
                    .map_err(|e| KvError::Io(e.to_string()))?;
            }
            KvAction::Get(_) => need("read", KvError::NoReadCap)?,
            _ => need("write", KvError::NoWriteCap)?,
        }
        // As on a node, every action opens the database first (so
        // RemoveDb leaves an empty one behind).
        let db = self.database(&key)?;
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
                let tx_id: u64 = rand::random();
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
    fn handle(&self, port: &Arc<dyn Port>, km: KernelMessage) {
        if km.source.node != port.node() || km.request().is_none() {
            return;
        }
        match self.run(port, &km) {
            Ok((body, blob)) => answer_ok(port, MODULE, &km, body, blob),
            Err(error) => answer_err(port, MODULE, &km, error.json(), error.text()),
        }
    }
}
