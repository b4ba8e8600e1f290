//! `sqlite:distro:sys`: a real SQLite database per (package, db) at
//! `<home>/sqlite/<package:publisher>/<db>/<db>.db` (WAL mode), with the
//! 1.0 node's API, errors and quirks: statements are checked by their first
//! keyword, parameters come as a JSON array in the blob (a string that
//! decodes as base64 binds as a BLOB), rows go back as a JSON array of
//! objects with sorted keys (BLOBs as base64), and the read and write
//! capabilities are checked but, as on a 1.0 node, not enforced.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::json;

use crate::kernel::event::ModuleEvent;
use crate::kernel::message::KernelMessage;
use crate::node::{Module, ModuleCtx};
use crate::util::lock;

use super::database::{answer_err, answer_ok, parse, same_package, DbKey};

const READ_KEYWORDS: [&str; 8] = [
    "ANALYZE", "ATTACH", "BEGIN", "EXPLAIN", "PRAGMA", "SELECT", "VALUES", "WITH",
];
const WRITE_KEYWORDS: [&str; 17] = [
    "ALTER",
    "ANALYZE",
    "COMMIT",
    "CREATE",
    "DELETE",
    "DETACH",
    "DROP",
    "END",
    "INSERT",
    "REINDEX",
    "RELEASE",
    "RENAME",
    "REPLACE",
    "ROLLBACK",
    "SAVEPOINT",
    "UPDATE",
    "VACUUM",
];

#[derive(Debug, Deserialize)]
enum SqliteAction {
    Open,
    RemoveDb,
    Write {
        statement: String,
        tx_id: Option<u64>,
    },
    Query(String),
    BeginTx,
    Commit {
        tx_id: u64,
    },
}

#[derive(Debug)]
enum SqliteError {
    NoTx(u64),
    MismatchingPackageId,
    NotAWriteKeyword,
    NotAReadKeyword,
    InvalidParameters,
    MalformedRequest,
    Rusqlite(String),
    Io(String),
}

impl SqliteError {
    fn json(&self) -> serde_json::Value {
        match self {
            SqliteError::NoTx(id) => json!({ "NoTx": id }),
            SqliteError::MismatchingPackageId => json!("MismatchingPackageId"),
            SqliteError::NotAWriteKeyword => json!("NotAWriteKeyword"),
            SqliteError::NotAReadKeyword => json!("NotAReadKeyword"),
            SqliteError::InvalidParameters => json!("InvalidParameters"),
            SqliteError::MalformedRequest => json!("MalformedRequest"),
            SqliteError::Rusqlite(e) => json!({ "RusqliteError": e }),
            SqliteError::Io(e) => json!({ "IOError": e }),
        }
    }

    fn text(&self) -> String {
        match self {
            SqliteError::NoTx(id) => format!("no transaction {id} found"),
            SqliteError::MismatchingPackageId => {
                "request to open or remove DB with mismatching package ID".into()
            }
            SqliteError::NotAWriteKeyword => {
                "write statement started with non-existent write keyword".into()
            }
            SqliteError::NotAReadKeyword => {
                "read query started with non-existent read keyword".into()
            }
            SqliteError::InvalidParameters => "parameters blob in read/write was misshapen or \
                                               contained invalid JSON objects"
                .into(),
            SqliteError::MalformedRequest => {
                "sqlite got a malformed request that failed to deserialize".into()
            }
            SqliteError::Rusqlite(e) => format!("rusqlite error: {e}"),
            SqliteError::Io(e) => format!("IO error: {e}"),
        }
    }
}

impl From<rusqlite::Error> for SqliteError {
    fn from(e: rusqlite::Error) -> Self {
        SqliteError::Rusqlite(e.to_string())
    }
}

/// A statement waiting in a transaction, with its parameters.
type Queued = (String, Vec<SqlValue>);

#[derive(Default)]
pub struct Sqlite {
    open: Mutex<HashMap<DbKey, Arc<Mutex<Connection>>>>,
    txs: Mutex<HashMap<u64, Vec<Queued>>>,
    /// Every connection's way to interrupt a statement when the run ends.
    interrupts: Mutex<Vec<rusqlite::InterruptHandle>>,
    /// Files an ATTACH (or VACUUM INTO) asked for and was refused, to
    /// report once the statement is over.
    refused: Arc<Mutex<Vec<String>>>,
}

/// An authorizer that lets ATTACH (and VACUUM INTO, which attaches its
/// target) open only files inside `dir`, the package's directory of
/// databases, or an in-memory or temporary database. A node lets SQLite
/// open any file.
fn confine(connection: &Connection, dir: PathBuf, refused: Arc<Mutex<Vec<String>>>) {
    connection.authorizer(Some(move |context: AuthContext<'_>| match context.action {
        AuthAction::Attach { filename }
            if filename.is_empty() || filename == ":memory:" || inside(&dir, filename) =>
        {
            Authorization::Allow
        }
        AuthAction::Attach { filename } => {
            lock(&refused).push(format!("{filename:?}"));
            Authorization::Deny
        }
        // SQLite names the file only when it is a literal: `ATTACH ? AS x`
        // or `ATTACH '/a' || 'b' AS x` reach here without one, so they
        // cannot be checked, and are refused.
        AuthAction::Unknown { code, .. } if code == rusqlite::ffi::SQLITE_ATTACH => {
            let what = "a file named by an expression (only a literal name can be checked)";
            lock(&refused).push(what.into());
            Authorization::Deny
        }
        _ => Authorization::Allow,
    }));
}

/// Whether the file SQLite would open for `name` (relative names are the
/// working directory's) is inside `dir`, judged on the path's text.
fn inside(dir: &Path, name: &str) -> bool {
    let Ok(cwd) = std::env::current_dir() else {
        return false;
    };
    let mut path = PathBuf::new();
    for part in cwd.join(name).components() {
        match part {
            std::path::Component::ParentDir => {
                path.pop();
            }
            std::path::Component::CurDir => {}
            other => path.push(other),
        }
    }
    path.starts_with(dir)
}

impl Sqlite {
    fn connection(&self, root: &Path, key: &DbKey) -> Result<Arc<Mutex<Connection>>, SqliteError> {
        if let Some(db) = lock(&self.open).get(key) {
            return Ok(db.clone());
        }
        let dir = key.dir(root);
        std::fs::create_dir_all(&dir).map_err(|e| SqliteError::Io(e.to_string()))?;
        let connection = Connection::open(dir.join(format!("{}.db", key.db)))?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        let package_dir = std::path::absolute(dir.parent().unwrap_or(&dir))
            .map_err(|e| SqliteError::Io(e.to_string()))?;
        confine(&connection, package_dir, self.refused.clone());
        lock(&self.interrupts).push(connection.get_interrupt_handle());
        let db = Arc::new(Mutex::new(connection));
        lock(&self.open).insert(key.clone(), db.clone());
        Ok(db)
    }

    fn run(
        &self,
        ctx: &ModuleCtx,
        km: &KernelMessage,
    ) -> Result<(serde_json::Value, Option<Vec<u8>>), SqliteError> {
        let (key, action) = parse::<SqliteAction>(ctx, km).ok_or(SqliteError::MalformedRequest)?;
        let source = &km.source.process;
        let root = ctx.home().sqlite();
        match &action {
            SqliteAction::Open | SqliteAction::RemoveDb if !same_package(source, &key.package) => {
                return Err(SqliteError::MismatchingPackageId)
            }
            SqliteAction::Open => key.grant_to(ctx, source),
            SqliteAction::RemoveDb => {
                lock(&self.open).remove(&key);
                std::fs::remove_dir_all(key.dir(&root))
                    .map_err(|e| SqliteError::Io(e.to_string()))?;
            }
            // Checked and ignored, as a 1.0 node does.
            _ => {}
        }
        let db = self.connection(&root, &key)?;
        let blob = km.blob.as_ref().map(|b| b.bytes.as_slice());
        match action {
            SqliteAction::Open | SqliteAction::RemoveDb => {}
            SqliteAction::Query(statement) => {
                if !starts_with_keyword(&statement, &READ_KEYWORDS) {
                    return Err(SqliteError::NotAReadKeyword);
                }
                let params = parameters(blob)?;
                let rows = query(&lock(&db), &statement, params)?;
                return Ok((json!("Read"), Some(rows.into_bytes())));
            }
            SqliteAction::Write { statement, tx_id } => {
                if !starts_with_keyword(&statement, &WRITE_KEYWORDS) {
                    return Err(SqliteError::NotAWriteKeyword);
                }
                let params = parameters(blob)?;
                match tx_id {
                    // An unknown id starts that transaction, as on a node.
                    Some(tx_id) => lock(&self.txs)
                        .entry(tx_id)
                        .or_default()
                        .push((statement, params)),
                    None => {
                        lock(&db)
                            .prepare(&statement)?
                            .execute(rusqlite::params_from_iter(params))?;
                    }
                }
            }
            SqliteAction::BeginTx => {
                let tx_id: u64 = ctx.random();
                lock(&self.txs).insert(tx_id, vec![]);
                return Ok((json!({ "BeginTx": { "tx_id": tx_id } }), None));
            }
            SqliteAction::Commit { tx_id } => {
                let queued = lock(&self.txs)
                    .remove(&tx_id)
                    .ok_or(SqliteError::NoTx(tx_id))?;
                let mut connection = lock(&db);
                let tx = connection.transaction()?;
                for (statement, params) in queued {
                    tx.execute(&statement, rusqlite::params_from_iter(params))?;
                }
                tx.commit()?;
            }
        }
        Ok((json!("Ok"), None))
    }
}

/// The node's check: the first word, upper-cased, is one of `keywords`.
fn starts_with_keyword(statement: &str, keywords: &[&str]) -> bool {
    statement
        .split_whitespace()
        .next()
        .is_some_and(|first| keywords.contains(&first.to_uppercase().as_str()))
}

/// The blob's JSON array as SQL values, the node's way.
fn parameters(blob: Option<&[u8]>) -> Result<Vec<SqlValue>, SqliteError> {
    let Some(blob) = blob else {
        return Ok(vec![]);
    };
    let values: Vec<serde_json::Value> =
        serde_json::from_slice(blob).map_err(|_| SqliteError::InvalidParameters)?;
    values
        .into_iter()
        .map(|value| match value {
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Ok(SqlValue::Integer(i)),
                None => n
                    .as_f64()
                    .map(SqlValue::Real)
                    .ok_or(SqliteError::InvalidParameters),
            },
            serde_json::Value::String(s) => {
                Ok(match base64::engine::general_purpose::STANDARD.decode(&s) {
                    Ok(bytes) => SqlValue::Blob(bytes),
                    Err(_) => SqlValue::Text(s),
                })
            }
            serde_json::Value::Bool(b) => Ok(SqlValue::Integer(i64::from(b))),
            serde_json::Value::Null => Ok(SqlValue::Null),
            _ => Err(SqliteError::InvalidParameters),
        })
        .collect()
}

/// Runs a query; the rows as the node sends them.
fn query(db: &Connection, statement: &str, params: Vec<SqlValue>) -> Result<String, SqliteError> {
    let mut prepared = db.prepare(statement)?;
    let names: Vec<String> = prepared
        .column_names()
        .into_iter()
        .map(String::from)
        .collect();
    let mut rows = prepared.query(rusqlite::params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut object = BTreeMap::new();
        for (index, name) in names.iter().enumerate() {
            let value = match row.get_ref(index)? {
                ValueRef::Null => serde_json::Value::Null,
                ValueRef::Integer(i) => json!(i),
                ValueRef::Real(f) => json!(f),
                ValueRef::Text(t) => {
                    json!(std::str::from_utf8(t).map_err(|e| SqliteError::Rusqlite(e.to_string()))?)
                }
                ValueRef::Blob(b) => json!(base64::engine::general_purpose::STANDARD.encode(b)),
            };
            object.insert(name.clone(), value);
        }
        out.push(object);
    }
    Ok(serde_json::to_string(&out).unwrap_or_else(|_| "[]".into()))
}

impl Module for Sqlite {
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
        let result = self.run(ctx, &km);
        for file in lock(&self.refused).drain(..) {
            ctx.note(ModuleEvent::DatabaseEscape {
                process: km.source.process.clone(),
                module: ctx.id().clone(),
                what: format!("a statement that ATTACHes {file}, outside the package's databases"),
            });
        }
        match result {
            Ok((body, blob)) => answer_ok(ctx, &km, body, blob),
            Err(error) => answer_err(ctx, &km, error.json(), error.text()),
        }
    }

    /// An endless query stops.
    fn stop(&self) {
        for handle in lock(&self.interrupts).iter() {
            handle.interrupt();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_follow_the_node_including_base64_strings() {
        let values = parameters(Some(br#"[1, 2.5, "hello", "dGVzdA==", true, null]"#)).unwrap();
        assert_eq!(
            values,
            [
                SqlValue::Integer(1),
                SqlValue::Real(2.5),
                SqlValue::Text("hello".into()),
                SqlValue::Blob(b"test".to_vec()),
                SqlValue::Integer(1),
                SqlValue::Null,
            ]
        );
        assert!(matches!(
            parameters(Some(b"[[1]]")),
            Err(SqliteError::InvalidParameters)
        ));
        assert!(matches!(
            parameters(Some(b"{}")),
            Err(SqliteError::InvalidParameters)
        ));
    }

    #[test]
    fn statements_are_checked_by_their_first_word() {
        assert!(starts_with_keyword("  select * from t", &READ_KEYWORDS));
        assert!(!starts_with_keyword("select*from t", &READ_KEYWORDS));
        assert!(!starts_with_keyword(
            "INSERT INTO t VALUES (1)",
            &READ_KEYWORDS
        ));
        assert!(starts_with_keyword(
            "insert into t values (1)",
            &WRITE_KEYWORDS
        ));
        assert!(!starts_with_keyword("", &WRITE_KEYWORDS));
    }

    #[test]
    fn attach_and_vacuum_into_stay_in_the_package_directory() {
        let scratch = crate::util::TempDir::new("sqlite-attach").unwrap();
        let package = scratch.path().join("app:me.os");
        std::fs::create_dir_all(package.join("main")).unwrap();
        let db = Connection::open(package.join("main/main.db")).unwrap();
        let refused = Arc::new(Mutex::new(Vec::new()));
        confine(&db, package.clone(), refused.clone());
        let outside = scratch.path().join("outside.db");
        let sibling = package.join("other/other.db");
        std::fs::create_dir_all(sibling.parent().unwrap()).unwrap();
        let run = |sql: String| db.execute_batch(&sql);
        assert!(run(format!("ATTACH DATABASE '{}' AS a", outside.display())).is_err());
        assert!(run(format!("VACUUM INTO '{}'", outside.display())).is_err());
        assert!(!outside.exists(), "nothing written outside");
        let escape = format!("{}/../outside.db", package.display());
        assert!(run(format!("ATTACH '{escape}' AS b")).is_err());
        // A name SQLite computes is not shown to the authorizer: refused.
        let computed = format!(
            "ATTACH ('{}' || '.db') AS c",
            scratch.path().join("x").display()
        );
        assert!(run(computed).is_err());
        let bound = db.execute("ATTACH ?1 AS d", [outside.display().to_string()]);
        assert!(bound.is_err());
        assert!(!outside.exists() && !scratch.path().join("x.db").exists());
        assert_eq!(lock(&refused).len(), 5, "{:?}", lock(&refused));
        assert!(lock(&refused)[3].contains("an expression"));
        // The package's own databases, and memory, are fine.
        run(format!("ATTACH '{}' AS s", sibling.display())).unwrap();
        run("ATTACH ':memory:' AS m".into()).unwrap();
        run(format!(
            "VACUUM INTO '{}'",
            package.join("copy.db").display()
        ))
        .unwrap();
        assert!(package.join("copy.db").is_file());
    }

    #[test]
    fn rows_come_back_with_sorted_keys_and_base64_blobs() {
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch("CREATE TABLE t (zeta INTEGER, Alpha BLOB, beta TEXT)")
            .unwrap();
        db.execute("INSERT INTO t VALUES (1, x'6869', NULL)", [])
            .unwrap();
        let rows = query(&db, "SELECT * FROM t", vec![]).unwrap();
        assert_eq!(rows, r#"[{"Alpha":"aGk=","beta":null,"zeta":1}]"#);
    }
}
