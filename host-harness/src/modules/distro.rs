//! Stand-ins for the processes every node runs besides the runtime modules
//! (Kinode 1.0: homepage, app store, chess, contacts, settings,
//! kns-indexer, terminal; hyperdrive drops chess and kns-indexer and adds
//! hns-indexer, the hypermap caches, hyperwallet, sign, the file explorer
//! and spider), under their ids and public flags, so that a package that
//! messages them at start (`add_to_homepage`, ...) finds them as it would
//! on a node. Each request is recorded in the report; homepage also keeps
//! the apps added to it and answers `GetApps`.

use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::bindings::ProcessId;
use crate::kernel::event::{Event, ModuleEvent};
use crate::kernel::message::KernelMessage;
use crate::node::{lock, Port};

use super::{respond_as, Answer, Module};

/// Each distro process of a Kinode 1.0 node and whether it is public
/// (`chess` alone is).
pub const KINODE_DISTRO: [(&str, bool); 9] = [
    ("homepage:homepage:sys", false),
    ("main:app-store:sys", false),
    ("downloads:app-store:sys", false),
    ("chain:app-store:sys", false),
    ("chess:chess:sys", true),
    ("contacts:contacts:sys", false),
    ("settings:settings:sys", false),
    ("kns-indexer:kns-indexer:sys", false),
    ("terminal:terminal:sys", false),
];

/// A hyperdrive 1.9 node's (`hyperwallet` alone is public).
pub const HYPERDRIVE_DISTRO: [(&str, bool); 14] = [
    ("homepage:homepage:sys", false),
    ("main:app-store:sys", false),
    ("downloads:app-store:sys", false),
    ("chain:app-store:sys", false),
    ("contacts:contacts:sys", false),
    ("explorer:file-explorer:sys", false),
    ("hns-indexer:hns-indexer:sys", false),
    ("hypermap-cacher:hypermap-cacher:sys", false),
    ("binding-cacher:hypermap-cacher:sys", false),
    ("hyperwallet:hyperwallet:sys", true),
    ("settings:settings:sys", false),
    ("sign:sign:sys", false),
    ("spider:spider:sys", false),
    ("terminal:terminal:sys", false),
];

/// The distro processes a node of `flavor` runs.
pub fn processes(flavor: crate::kernel::Flavor) -> &'static [(&'static str, bool)] {
    match flavor {
        crate::kernel::Flavor::Kinode => &KINODE_DISTRO,
        crate::kernel::Flavor::Hyperdrive => &HYPERDRIVE_DISTRO,
    }
}

#[derive(Default)]
pub struct Distro {
    /// homepage's apps: (process, the `Add` body).
    apps: Mutex<Vec<(String, serde_json::Value)>>,
}

impl Module for Distro {
    fn handle(&self, port: &Arc<dyn Port>, km: KernelMessage) {
        let Some(request) = km.request() else { return };
        port.note(Event::Module(ModuleEvent::DistroRequest {
            process: km.source.process.clone(),
            target: km.target.process.clone(),
            body: String::from_utf8_lossy(&request.body).into_owned(),
        }));
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
            respond_as(port, km.target.process.clone(), &km, Answer::new(answer));
        }
    }
}
