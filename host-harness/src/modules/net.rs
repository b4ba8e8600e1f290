//! `net:distro:sys` for the requests a node's own processes make (bodies
//! in MessagePack, as the SDK sends them), answered as a node with no
//! peers answers: `GetPeers` gets no one, `GetPeer` finds only this node,
//! `GetDiagnostics` says there are no connections. `Sign` signs `source
//! address ++ blob` with a networking key made for the run (Ed25519, as a
//! node's), and `Verify` checks signatures by this node and refuses any
//! other's (no other node is in its PKI). Updates to the name registry
//! (`KnsUpdate`) and connection requests are accepted and ignored; every
//! answer goes back even when none was expected, as the node does.

use ed25519_dalek::{Signer, SigningKey, Verifier};
use serde::{de::IgnoredAny, Deserialize, Serialize};

use crate::kernel::event::ModuleEvent;
use crate::kernel::message::{Answer, KernelMessage};
use crate::node::{Module, ModuleCtx};
use crate::types::{Address, LazyLoadBlob};

/// The SDK's `NetAction`, with the payloads the harness ignores ignored.
#[derive(Deserialize)]
enum NetAction {
    ConnectionRequest(IgnoredAny),
    // hyperdrive renamed these two.
    #[serde(alias = "HnsUpdate")]
    KnsUpdate(IgnoredAny),
    #[serde(alias = "HnsBatchUpdate")]
    KnsBatchUpdate(IgnoredAny),
    GetPeers,
    GetPeer(String),
    GetDiagnostics,
    Sign,
    Verify {
        from: AddressText,
        signature: Vec<u8>,
    },
}

/// An `Address` as the SDK serializes it: `node@process:package:publisher`.
#[derive(Deserialize)]
#[serde(transparent)]
struct AddressText(String);

#[derive(Serialize)]
enum NetResponse {
    Peers(Vec<Identity>),
    Peer(Option<Identity>),
    Diagnostics(String),
    Signed,
    Verified(bool),
}

#[derive(Serialize)]
struct Identity {
    name: String,
    networking_key: String,
    routing: NodeRouting,
}

/// The SDK's `NodeRouting`; this node is indirect, so only `Routers`.
#[derive(Serialize)]
enum NodeRouting {
    Routers(Vec<String>),
}

pub struct Net {
    /// The node's networking key, made from the run's seed.
    key: SigningKey,
}

impl Net {
    pub fn new(seed: [u8; 32]) -> Self {
        Net {
            key: SigningKey::from_bytes(&seed),
        }
    }

    fn identity(&self, node: &str) -> Identity {
        let key: String = self
            .key
            .verifying_key()
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Identity {
            name: node.into(),
            networking_key: format!("0x{key}"),
            // An indirect node with no routers: reachable by no one.
            routing: NodeRouting::Routers(vec![]),
        }
    }

    /// What this node answers, and the blob that goes with it.
    fn answer(
        &self,
        node: &str,
        km: &KernelMessage,
        action: NetAction,
    ) -> Option<(NetResponse, Option<Vec<u8>>)> {
        let blob = km.blob.as_ref().map_or(&[][..], |b| b.bytes.as_slice());
        let signed = |from: &str| [from.as_bytes(), blob].concat();
        Some(match action {
            NetAction::ConnectionRequest(_)
            | NetAction::KnsUpdate(_)
            | NetAction::KnsBatchUpdate(_) => return None,
            NetAction::GetPeers => (NetResponse::Peers(vec![]), None),
            NetAction::GetPeer(name) => (
                NetResponse::Peer((name == node).then(|| self.identity(node))),
                None,
            ),
            NetAction::GetDiagnostics => (
                NetResponse::Diagnostics(format!(
                    "our Identity: {node} (host-harness: one node, no network)\r\n\
                     we have connections with 0 peers\r\n"
                )),
                None,
            ),
            NetAction::Sign => {
                let message = signed(&km.source.to_string());
                let signature = self.key.sign(&message).to_bytes().to_vec();
                (NetResponse::Signed, Some(signature))
            }
            NetAction::Verify { from, signature } => {
                let ours = Address::parse(&from.0).is_ok_and(|a| a.node == node);
                let valid = ours
                    && ed25519_dalek::Signature::from_slice(&signature).is_ok_and(|signature| {
                        self.key
                            .verifying_key()
                            .verify(&signed(&from.0), &signature)
                            .is_ok()
                    });
                (NetResponse::Verified(valid), None)
            }
        })
    }
}

impl Module for Net {
    fn handle(&self, ctx: &ModuleCtx, km: KernelMessage) {
        let Some(request) = km.request() else { return };
        // Other nodes reach no one here; a body that is no NetAction is
        // fd-manager's business on a node.
        if km.source.node != ctx.node() {
            return;
        }
        let Ok(action) = rmp_serde::from_slice::<NetAction>(&request.body) else {
            ctx.note(ModuleEvent::NotEmulated {
                process: km.source.process.clone(),
                module: km.target.process.clone(),
                kind: km.kind(),
            });
            return;
        };
        let Some((response, blob)) = self.answer(ctx.node(), &km, action) else {
            return;
        };
        let body = rmp_serde::to_vec(&response).expect("net responses serialize");
        let mut answer = Answer::always(body);
        answer.blob = blob.map(|bytes| LazyLoadBlob { mime: None, bytes });
        ctx.respond(&km, answer);
    }
}
