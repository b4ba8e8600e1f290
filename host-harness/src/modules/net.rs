//! `net:distro:sys`. For the node's own processes (bodies in MessagePack,
//! as the SDK sends them): `GetPeers` lists the nodes it has a connection
//! with, `GetPeer` finds any node of the network (every one is in the name
//! registry) with its real key, `GetDiagnostics` lists the connections,
//! `Sign` signs `source address ++ blob` with the node's networking key
//! (Ed25519, as a node's; the kernel signs capabilities with the same),
//! and `Verify` checks a signature against the key the registry has for
//! the signer's node. Registry updates and connection requests are
//! accepted and ignored; every answer goes back even when none was
//! expected, as the node does. From another node, anything that is no
//! `NetAction` is a "hello": printed, and answered `ack`.

use ed25519_dalek::{Signer, SigningKey, Verifier};
use serde::{de::IgnoredAny, Deserialize, Serialize};

use crate::kernel::event::ModuleEvent;
use crate::kernel::message::{Answer, KernelMessage};
use crate::node::{Module, ModuleCtx};
use crate::types::keys::key_hex;
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

/// The SDK's `NodeRouting`. Every emulated node is direct, on loopback.
#[derive(Serialize)]
enum NodeRouting {
    Direct {
        ip: String,
        ports: std::collections::BTreeMap<String, u16>,
    },
}

pub struct Net {
    /// The node's networking key, made from its seed (the kernel's).
    key: SigningKey,
}

impl Net {
    pub fn new(seed: [u8; 32]) -> Self {
        Net {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// What the name registry says of `node`: its key, and a route.
    fn identity(&self, ctx: &ModuleCtx, node: &str) -> Option<Identity> {
        let key = if node == ctx.node() {
            self.key.verifying_key()
        } else {
            ctx.key_of(node)?
        };
        Some(Identity {
            name: node.into(),
            networking_key: key_hex(&key),
            routing: NodeRouting::Direct {
                ip: "127.0.0.1".into(),
                ports: [("tcp".to_string(), 9000)].into_iter().collect(),
            },
        })
    }

    /// What this node answers its own processes, and the blob with it.
    fn answer(
        &self,
        ctx: &ModuleCtx,
        km: &KernelMessage,
        action: NetAction,
    ) -> Option<(NetResponse, Option<Vec<u8>>)> {
        let node = ctx.node();
        let blob = km.blob.as_ref().map_or(&[][..], |b| b.bytes.as_slice());
        let signed = |from: &str| [from.as_bytes(), blob].concat();
        Some(match action {
            NetAction::ConnectionRequest(_)
            | NetAction::KnsUpdate(_)
            | NetAction::KnsBatchUpdate(_) => return None,
            NetAction::GetPeers => {
                let peers = ctx.peers();
                let identities = peers.iter().filter_map(|p| self.identity(ctx, p));
                (NetResponse::Peers(identities.collect()), None)
            }
            NetAction::GetPeer(name) => (NetResponse::Peer(self.identity(ctx, &name)), None),
            NetAction::GetDiagnostics => {
                let peers = ctx.peers();
                let mut text = format!(
                    "our Identity: {node} (host-harness: direct, on loopback)\r\n\
                     we have connections with {} peers:\r\n",
                    peers.len()
                );
                for peer in peers {
                    text.push_str(&format!("    {peer}\r\n"));
                }
                (NetResponse::Diagnostics(text), None)
            }
            NetAction::Sign => {
                let message = signed(&km.source.to_string());
                let signature = self.key.sign(&message).to_bytes().to_vec();
                (NetResponse::Signed, Some(signature))
            }
            NetAction::Verify { from, signature } => {
                // By the key the registry has for the signer's node.
                let key = Address::parse(&from.0).ok().and_then(|a| {
                    if a.node == node {
                        Some(self.key.verifying_key())
                    } else {
                        ctx.key_of(&a.node)
                    }
                });
                let valid = key.is_some_and(|key| {
                    ed25519_dalek::Signature::from_slice(&signature)
                        .is_ok_and(|signature| key.verify(&signed(&from.0), &signature).is_ok())
                });
                (NetResponse::Verified(valid), None)
            }
        })
    }

    /// A request from another node's process: an update to the registry
    /// is refused; anything that is no `NetAction` is a "hello", which the
    /// node prints and answers `ack` (the terminal's `hi`).
    fn answer_remote(&self, ctx: &ModuleCtx, km: &KernelMessage, body: &[u8]) {
        match rmp_serde::from_slice::<NetAction>(body) {
            Ok(NetAction::KnsUpdate(_) | NetAction::KnsBatchUpdate(_)) => {
                ctx.print(2, "net: not allowed to update PKI from remote".into());
            }
            Ok(NetAction::ConnectionRequest(_)) => {
                ctx.print(2, "net: not an indirect node".into());
            }
            // Anything else, a NetAction or not, is a hello: printed
            // and acknowledged.
            _ => {
                let text = std::str::from_utf8(body).unwrap_or("!!message parse error!!");
                ctx.print(0, format!("\x1b[3;32m{}: {text}\x1b[0m", km.source.node));
                ctx.respond(km, Answer::always("ack"));
            }
        }
    }
}

impl Module for Net {
    fn handle(&self, ctx: &ModuleCtx, km: KernelMessage) {
        let Some(request) = km.request() else { return };
        if km.source.node != ctx.node() {
            return self.answer_remote(ctx, &km, &request.body);
        }
        let Ok(action) = rmp_serde::from_slice::<NetAction>(&request.body) else {
            // Locally, a body that is no NetAction is fd-manager's business.
            ctx.note(ModuleEvent::NotEmulated {
                process: km.source.process.clone(),
                module: km.target.process.clone(),
                kind: km.kind(),
            });
            return;
        };
        let Some((response, blob)) = self.answer(ctx, &km, action) else {
            return;
        };
        let body = rmp_serde::to_vec(&response).expect("net responses serialize");
        let mut answer = Answer::always(body);
        answer.blob = blob.map(|bytes| LazyLoadBlob { mime: None, bytes });
        ctx.respond(&km, answer);
    }
}
