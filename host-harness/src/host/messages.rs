//! One process's message state, as the 1.0 kernel keeps it per process
//! (`standard_host_v1.rs`): the requests it waits on and their contexts,
//! the request it is answering (the "prompting message"), and the last
//! blob. Pure: it builds outgoing messages and takes in deliveries; the
//! host sends and waits.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::kernel::message::{Delivery, KernelMessage};
use crate::types::{Address, LazyLoadBlob, Message, Request, Response, SendError};

/// What `receive` hands the guest.
pub type Received = Result<(Address, Message), (SendError, Option<Vec<u8>>)>;

#[derive(Debug)]
pub enum Ingested {
    /// A request (or anything else not answering one of ours).
    Message(Received),
    /// The answer (or failure) of one of our requests, by its id.
    Answer(u64, Received),
    /// A response or error for no request of ours that still waits: the
    /// kernel's host drops it.
    Stray { id: u64, from: Option<Address> },
}

pub struct Messages {
    our: Address,
    /// Requests sent with `expects_response`, by id.
    outstanding: HashMap<u64, Outstanding>,
    /// The request a `send-response` answers: the last one received that
    /// expects a response or has an rsvp. Never cleared by answering.
    prompting: Option<KernelMessage>,
    last_blob: Option<LazyLoadBlob>,
    last_message_blobbed: bool,
    /// Request ids, from a seed the kernel's stream gave this process.
    ids: ChaCha8Rng,
}

struct Outstanding {
    context: Option<Vec<u8>>,
    /// The prompting message when the request was sent; restored when its
    /// answer arrives.
    prompting: Option<KernelMessage>,
}

impl Messages {
    pub fn new(our: Address, seed: u64) -> Self {
        Messages {
            our,
            outstanding: HashMap::new(),
            prompting: None,
            last_blob: None,
            last_message_blobbed: false,
            ids: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// A request from this process. With `inherit`, it takes the prompting
    /// message's id (and, without `expects_response`, its rsvp, so the
    /// final responder answers the original asker) and, lacking a blob of
    /// its own, the last blob. With `expects_response`, its context waits.
    pub fn request(
        &mut self,
        target: Address,
        request: Request,
        context: Option<Vec<u8>>,
        blob: Option<LazyLoadBlob>,
    ) -> KernelMessage {
        let id = match (&self.prompting, request.inherit) {
            (Some(prompting), true) => prompting.id,
            _ => loop {
                let id: u64 = self.ids.gen();
                if !self.outstanding.contains_key(&id) {
                    break id;
                }
            },
        };
        let blob = blob.or_else(|| request.inherit.then(|| self.last_blob.clone()).flatten());
        let rsvp = if request.expects_response.is_some() {
            Some(self.our.clone())
        } else if request.inherit {
            self.prompting.as_ref().and_then(|p| p.rsvp.clone())
        } else {
            None
        };
        if request.expects_response.is_some() {
            let outstanding = Outstanding {
                context,
                prompting: self.prompting.clone(),
            };
            self.outstanding.insert(id, outstanding);
        }
        KernelMessage {
            id,
            source: self.our.clone(),
            target,
            rsvp,
            message: Message::Request(request),
            blob,
        }
    }

    /// A response to the prompting message: to its rsvp, else its source,
    /// with its id. `inherit` takes the last blob and ignores `blob`.
    /// `None`: nothing to answer.
    pub fn response(
        &self,
        response: Response,
        blob: Option<LazyLoadBlob>,
    ) -> Option<KernelMessage> {
        let prompting = self.prompting.as_ref()?;
        let blob = if response.inherit {
            self.last_blob.clone()
        } else {
            blob
        };
        Some(KernelMessage {
            id: prompting.id,
            source: self.our.clone(),
            target: prompting.rsvp.clone().unwrap_or(prompting.source.clone()),
            rsvp: None,
            message: Message::Response((response, None)),
            blob,
        })
    }

    /// Takes in a delivery as the kernel's host does.
    pub fn ingest(&mut self, delivery: Delivery) -> Ingested {
        match delivery {
            Delivery::Message(km) => match km.message {
                Message::Request(_) => {
                    if km.expects_response() || km.rsvp.is_some() {
                        self.prompting = Some(km.clone());
                    }
                    self.take_blob(km.blob);
                    Ingested::Message(Ok((km.source, km.message)))
                }
                Message::Response((response, _)) => {
                    let Some(outstanding) = self.outstanding.remove(&km.id) else {
                        return Ingested::Stray {
                            id: km.id,
                            from: Some(km.source),
                        };
                    };
                    self.prompting = outstanding.prompting;
                    self.take_blob(km.blob);
                    let message = Message::Response((response, outstanding.context));
                    Ingested::Answer(km.id, Ok((km.source, message)))
                }
            },
            Delivery::Failed { id, error } => {
                let Some(outstanding) = self.outstanding.remove(&id) else {
                    return Ingested::Stray { id, from: None };
                };
                self.last_message_blobbed = false;
                self.prompting = outstanding.prompting;
                Ingested::Answer(id, Err((error, outstanding.context)))
            }
        }
    }

    fn take_blob(&mut self, blob: Option<LazyLoadBlob>) {
        self.last_message_blobbed = blob.is_some();
        if blob.is_some() {
            self.last_blob = blob;
        }
    }

    /// After one of the host's own round trips (`get-state`, `set-state`,
    /// `clear-state`, `spawn`): the kernel restores the last blob it had
    /// before, but "the last message had a blob" stays as the round trip's
    /// answer left it. So after a `get-state` that found state, `has-blob`
    /// is true while `get-blob` gives the blob from before the call.
    pub fn after_round_trip(
        &mut self,
        saved_last_blob: Option<LazyLoadBlob>,
        answer_had_blob: bool,
    ) {
        self.last_blob = saved_last_blob;
        self.last_message_blobbed = answer_had_blob;
    }

    pub fn last_blob(&self) -> Option<LazyLoadBlob> {
        self.last_blob.clone()
    }

    pub fn has_blob(&self) -> bool {
        self.last_message_blobbed
    }

    pub fn get_blob(&self) -> Option<LazyLoadBlob> {
        self.last_blob.clone().filter(|_| self.last_message_blobbed)
    }

    /// The ids of requests still waiting for an answer.
    #[cfg(test)]
    pub fn waiting(&self) -> impl Iterator<Item = u64> + '_ {
        self.outstanding.keys().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ProcessId, SendErrorKind};

    fn address(name: &str) -> Address {
        Address::new("fake.os", ProcessId::new(name, "p", "x.os"))
    }

    fn blob(text: &str) -> LazyLoadBlob {
        LazyLoadBlob {
            mime: None,
            bytes: text.as_bytes().to_vec(),
        }
    }

    fn request(expects: Option<u64>, inherit: bool) -> Request {
        Request {
            inherit,
            expects_response: expects,
            body: b"q".to_vec(),
            metadata: None,
            capabilities: vec![],
        }
    }

    fn response(inherit: bool) -> Response {
        Response {
            inherit,
            body: b"a".to_vec(),
            metadata: None,
            capabilities: vec![],
        }
    }

    /// A request from `from` to `me`, delivered.
    fn incoming(me: &mut Messages, from: &str, expects: Option<u64>, with: Option<&str>) -> u64 {
        let mut other = Messages::new(address(from), 1);
        let km = other.request(
            me.our.clone(),
            request(expects, false),
            None,
            with.map(blob),
        );
        let id = km.id;
        assert!(matches!(
            me.ingest(Delivery::Message(km)),
            Ingested::Message(Ok(_))
        ));
        id
    }

    #[test]
    fn a_response_goes_to_the_prompting_request_with_its_id() {
        let mut me = Messages::new(address("me"), 1);
        assert!(
            me.response(response(false), None).is_none(),
            "nothing to answer"
        );
        let id = incoming(&mut me, "asker", Some(5), None);
        let answer = me.response(response(false), None).unwrap();
        assert_eq!((answer.id, answer.target), (id, address("asker")));
        // A fire-and-forget request does not replace the prompting message.
        incoming(&mut me, "chatter", None, None);
        assert_eq!(
            me.response(response(false), None).unwrap().target,
            address("asker")
        );
    }

    #[test]
    fn inherit_takes_the_last_blob_even_from_an_older_message() {
        let mut me = Messages::new(address("me"), 1);
        incoming(&mut me, "a", Some(5), Some("b1"));
        incoming(&mut me, "a", Some(5), None);
        assert!(!me.has_blob());
        assert_eq!(me.get_blob(), None);
        assert_eq!(me.last_blob(), Some(blob("b1")));
        let answer = me.response(response(true), Some(blob("ignored"))).unwrap();
        assert_eq!(
            answer.blob,
            Some(blob("b1")),
            "inherit ignores an explicit blob"
        );
        let plain = me.response(response(false), Some(blob("mine"))).unwrap();
        assert_eq!(plain.blob, Some(blob("mine")));
    }

    #[test]
    fn an_inheriting_request_reuses_the_id_and_rsvp() {
        let mut me = Messages::new(address("me"), 1);
        let id = incoming(&mut me, "asker", Some(5), Some("b1"));
        let forwarded = me.request(address("worker"), request(None, true), None, None);
        assert_eq!(forwarded.id, id);
        assert_eq!(forwarded.rsvp, Some(address("asker")));
        assert_eq!(forwarded.blob, Some(blob("b1")));
        let own_blob = me.request(
            address("worker"),
            request(None, true),
            None,
            Some(blob("b2")),
        );
        assert_eq!(own_blob.blob, Some(blob("b2")), "an explicit blob wins");
    }

    #[test]
    fn answers_bring_back_context_and_prompting_message() {
        let mut me = Messages::new(address("me"), 1);
        let asked = incoming(&mut me, "asker", Some(5), None);
        let out = me.request(
            address("db"),
            request(Some(5), false),
            Some(b"ctx".to_vec()),
            None,
        );
        assert_eq!(out.rsvp, Some(address("me")));
        // Meanwhile another request becomes the prompting message...
        incoming(&mut me, "other", Some(5), None);
        let mut db = Messages::new(address("db"), 1);
        db.ingest(Delivery::Message(out.clone()));
        let reply = db.response(response(false), Some(blob("row"))).unwrap();
        match me.ingest(Delivery::Message(reply)) {
            Ingested::Answer(id, Ok((from, Message::Response((_, context))))) => {
                assert_eq!((id, from), (out.id, address("db")));
                assert_eq!(context.as_deref(), Some(&b"ctx"[..]));
            }
            other => panic!("{other:?}"),
        }
        // ...but the answer restores the one from when we asked.
        assert_eq!(me.response(response(false), None).unwrap().id, asked);
        assert_eq!(me.get_blob(), Some(blob("row")));
        // A second answer to the same id is stray.
        let again = db.response(response(false), None).unwrap();
        assert!(matches!(
            me.ingest(Delivery::Message(again)),
            Ingested::Stray { .. }
        ));
    }

    #[test]
    fn a_failure_answers_its_request_and_clears_the_blob_flag() {
        let mut me = Messages::new(address("me"), 1);
        incoming(&mut me, "a", Some(5), Some("b1"));
        let out = me.request(
            address("gone"),
            request(Some(5), false),
            Some(b"c".to_vec()),
            None,
        );
        let error = SendError {
            kind: SendErrorKind::Timeout,
            target: out.target.clone(),
            message: out.message.clone(),
            lazy_load_blob: None,
        };
        match me.ingest(Delivery::Failed { id: out.id, error }) {
            Ingested::Answer(_, Err((e, context))) => {
                assert_eq!(e.kind, SendErrorKind::Timeout);
                assert_eq!(context.as_deref(), Some(&b"c"[..]));
            }
            other => panic!("{other:?}"),
        }
        assert!(!me.has_blob());
        assert_eq!(me.waiting().count(), 0);
    }

    #[test]
    fn a_round_trip_restores_the_last_blob_but_not_the_flag() {
        let mut me = Messages::new(address("me"), 1);
        incoming(&mut me, "a", Some(5), Some("old"));
        let saved = me.last_blob();
        // get-state found state: the answer had a blob.
        me.after_round_trip(saved.clone(), true);
        assert!(me.has_blob());
        assert_eq!(me.get_blob(), Some(blob("old")));
        // set-state: no blob in the answer.
        me.after_round_trip(saved, false);
        assert!(!me.has_blob());
        assert_eq!(me.get_blob(), None);
        assert_eq!(me.last_blob(), Some(blob("old")));
    }
}
