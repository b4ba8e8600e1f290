//! `eth:distro:sys` as a node answers when it can reach no chain: the
//! harness has no RPC providers, so every `Request` and `SubscribeLogs` is
//! answered `{"Err":"NoRpcForChain"}`, what a node answers for a chain it
//! has no provider for. `UnsubscribeLogs` finds no subscription and
//! answers `MalformedRequest`, as does a body that is no eth action.
//! Config actions (`EthConfigAction`) need the root capability on a node
//! and are not emulated. Each answer is noted in the report.

use crate::kernel::event::ModuleEvent;
use crate::kernel::message::{Answer, KernelMessage};
use crate::node::{Module, ModuleCtx};

pub struct Eth;

/// The `EthAction` variants and what a node without providers answers.
fn answer_for(body: &[u8]) -> Option<(&'static str, &'static str)> {
    let action: serde_json::Value = match serde_json::from_slice(body) {
        Ok(action) => action,
        Err(_) => return Some(("a request", "MalformedRequest")),
    };
    let variant = match &action {
        serde_json::Value::Object(map) if map.len() == 1 => map.keys().next().map(String::as_str),
        serde_json::Value::String(unit) => Some(unit.as_str()),
        _ => None,
    };
    match variant {
        Some("Request") => Some(("Request", "NoRpcForChain")),
        Some("SubscribeLogs") => Some(("SubscribeLogs", "NoRpcForChain")),
        Some("UnsubscribeLogs") => Some(("UnsubscribeLogs", "MalformedRequest")),
        // EthConfigAction: needs root on a node; not emulated.
        Some(
            "AddProvider" | "RemoveProvider" | "SetPublic" | "SetPrivate" | "AllowNode"
            | "UnallowNode" | "DenyNode" | "UndenyNode" | "SetProviders" | "GetProviders"
            | "GetAccessSettings" | "GetState",
        ) => None,
        Some(_) => Some(("a request", "MalformedRequest")),
        None => Some(("a request", "MalformedRequest")),
    }
}

impl Module for Eth {
    fn handle(&self, ctx: &ModuleCtx, km: KernelMessage) {
        let Some(request) = km.request() else { return };
        let Some((action, error)) = answer_for(&request.body) else {
            ctx.note(ModuleEvent::NotEmulated {
                process: km.source.process.clone(),
                module: km.target.process.clone(),
                kind: km.kind(),
            });
            return;
        };
        ctx.note(ModuleEvent::Unreachable {
            process: km.source.process.clone(),
            module: km.target.process.clone(),
            action,
            answer: error,
        });
        let body = serde_json::json!({ "Err": error }).to_string();
        ctx.respond(&km, Answer::always(body));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_action_gets_the_answer_of_a_node_without_providers() {
        let cases: [(&str, Option<(&str, &str)>); 7] = [
            (
                r#"{"Request":{"chain_id":8453,"method":"eth_blockNumber","params":[]}}"#,
                Some(("Request", "NoRpcForChain")),
            ),
            (
                r#"{"SubscribeLogs":{"sub_id":1,"chain_id":1,"kind":"Logs","params":{}}}"#,
                Some(("SubscribeLogs", "NoRpcForChain")),
            ),
            (
                r#"{"UnsubscribeLogs":1}"#,
                Some(("UnsubscribeLogs", "MalformedRequest")),
            ),
            ("not json", Some(("a request", "MalformedRequest"))),
            ("[1,2]", Some(("a request", "MalformedRequest"))),
            (r#""GetProviders""#, None),
            (r#"{"Requst":{}}"#, Some(("a request", "MalformedRequest"))),
        ];
        for (body, expected) in cases {
            assert_eq!(answer_for(body.as_bytes()), expected, "{body}");
        }
    }
}
