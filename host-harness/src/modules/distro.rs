//! Stand-ins for the processes every 1.0 node runs besides the runtime
//! modules (homepage, app store, chess, contacts, settings, kns-indexer,
//! terminal), under their ids and public flags, so that a package that
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

/// Each distro process and whether it is public (`chess` alone is).
pub const DISTRO: [(&str, bool); 9] = [
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
