//! Stand-ins for the processes every node runs besides the runtime modules
//! (Kinode 1.0: homepage, app store, chess, contacts, settings,
//! kns-indexer, terminal; hyperdrive drops chess and kns-indexer and adds
//! hns-indexer, the hypermap caches, hyperwallet, sign, the file explorer
//! and spider), under their ids and public flags, so that a package that
//! messages them at start (`add_to_homepage`, ...) finds them as it would
//! on a node. Each request is recorded in the report; homepage also keeps
//! the apps added to it and answers `GetApps`.

use std::sync::Mutex;

use serde_json::json;

use crate::kernel::event::ModuleEvent;
use crate::kernel::message::{Answer, KernelMessage};
use crate::node::{Module, ModuleCtx};
use crate::types::ProcessId;
use crate::util::lock;

#[derive(Default)]
pub struct Distro {
    /// homepage's apps: (process, the `Add` body).
    apps: Mutex<Vec<(String, serde_json::Value)>>,
}

impl Module for Distro {
    fn handle(&self, ctx: &ModuleCtx, km: KernelMessage) {
        let Some(request) = km.request() else { return };
        ctx.note(ModuleEvent::DistroRequest {
            process: km.source.process.clone(),
            target: km.target.process.clone(),
            body: String::from_utf8_lossy(&request.body).into_owned(),
        });
        if km.target.process != ProcessId::parse("homepage:homepage:sys").expect("valid") {
            return;
        }
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let source = km.source.process.to_string();
        let mut apps = lock(&self.apps);
        if let Some(add) = body.get("Add") {
            apps.retain(|(process, _)| *process != source);
            apps.push((source, add.clone()));
        } else if body == "Remove" {
            apps.retain(|(process, _)| *process != source);
        } else if body == "GetApps" {
            let listed: Vec<serde_json::Value> = apps
                .iter()
                .map(|(process, add)| json!({ "process": process, "label": add.get("label"), "path": add.get("path") }))
                .collect();
            drop(apps);
            let answer = json!({ "GetApps": listed }).to_string();
            ctx.respond(&km, Answer::new(answer));
        }
    }
}
