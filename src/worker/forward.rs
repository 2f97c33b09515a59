//! Forwarding, the producer's side: what each endpoint is sent for an accepted callback (one
//! queue message per endpoint), and putting those messages on Cloudflare Queues before the
//! callback is answered. The consumer's side is [`super::delivery`].
//!
//! A message carries everything its deliveries need, so that any attempt, a day later or
//! after a restart, sends the same bytes: the payload as it will be POSTed, its Content-Type,
//! the webhook id, and the attempts made so far (workers-rs has no `attempts()`).
//!
//! The typed payload is an envelope around the callback exactly as the npm module's
//! `receive()` returns it (64-bit ids as decimal strings):
//!
//! ```text
//! {"id":"msg_..","type":"stream_create","appid":"1","received_at":1764850000123,
//!  "data":{..the callback..},
//!  "live":{"scope":{"room_id":".."},"written":["s:..:.."],"duplicate":false,"seq":42}}
//! ```
//!
//! `live` is what the room's (or mix task's) object did with it; `seq` is that object's
//! change counter once it had, the order of its changes. `live` is `null` for an event that
//! does not concern the list.
//!
//! A correction a check of ZEGO's server API made to a room (`super::reconcile`) is
//! forwarded the same way as its own type, [`RECONCILED`], to the typed endpoints that take
//! it (a raw endpoint gets ZEGO's bodies, and a correction has none):
//!
//! ```text
//! {"id":"msg_..","type":"zego_callback.reconciled","appid":"1","received_at":1764850000123,
//!  "data":{"room_id":"..","asked_at":1764850000000,"ended":[{..}],"listed":[{..}]},
//!  "live":{"scope":{"room_id":".."},"written":["s:..:.."],"duplicate":false,"seq":43}}
//! ```

use ::worker::{Env, QueueContentType, RawMessageBuilder, SendMessage};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use wasm_bindgen::JsValue;

use super::config;
use super::endpoints::{Endpoint, Format, Forwarding};
use super::webhook;
use crate::live::{LiveStream, Scope};
use crate::{Callback, Error};

/// The queue messages are sent to.
pub const QUEUE_BINDING: &str = "FORWARD_QUEUE";
/// The queue messages go to after their last attempt.
pub const DEAD_LETTER_BINDING: &str = "FORWARD_DEAD_LETTERS";

/// One delivery to one endpoint, as the queue carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The webhook id: the same for every retry and duplicate of one ZEGO callback.
    pub id: String,
    /// The endpoint's id.
    pub endpoint: String,
    /// The app.
    pub app: String,
    /// The callback's event.
    pub event: String,
    /// Attempts made before this one.
    pub attempt: u32,
    /// When the callback was accepted, Unix ms.
    pub accepted_at: u64,
    /// The payload's Content-Type.
    pub content_type: String,
    /// The payload, exactly as it is POSTed.
    pub body: String,
    /// The last attempt's HTTP status, if it got an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<u16>,
    /// What the last attempt met: an excerpt of the answer, or the network error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl Message {
    /// The message's JSON, as the queue carries it.
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string(self).map_err(|e| Error::Storage {
            reason: format!("could not serialize a message: {e}"),
        })
    }

    /// A message from the queue's JSON.
    pub fn from_json(text: &str) -> Result<Message, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

/// What the room's (or mix task's) object did with a callback, for the typed payload.
#[derive(Debug, Clone, Serialize)]
pub struct Live<'a> {
    /// Whose records: `{"room_id": ..}` or `{"task_id": ..}`.
    pub scope: ScopeIds<'a>,
    /// The keys it wrote.
    pub written: &'a [String],
    /// The same callback was accepted before and nothing was left to change.
    pub duplicate: bool,
    /// The object's change counter once it applied the callback.
    pub seq: u64,
}

/// A scope's id, as the typed payload names it.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ScopeIds<'a> {
    /// A room.
    Room {
        /// Its id.
        room_id: &'a str,
    },
    /// A mix task.
    Mix {
        /// Its id.
        task_id: &'a str,
    },
}

impl<'a> ScopeIds<'a> {
    /// The ids of a scope.
    pub fn of(scope: &'a Scope) -> ScopeIds<'a> {
        match scope {
            Scope::Room(room_id) => ScopeIds::Room { room_id },
            Scope::Mix(task_id) => ScopeIds::Mix { task_id },
        }
    }
}

#[derive(Serialize)]
struct Typed<'a> {
    id: &'a str,
    r#type: &'a str,
    appid: &'a str,
    received_at: u64,
    data: &'a RawValue,
    live: Option<&'a Live<'a>>,
}

/// An accepted callback, as forwarding sees it.
pub struct Accepted<'a> {
    /// The app.
    pub app: &'a str,
    /// The nonce.
    pub nonce: &'a str,
    /// The raw body and its Content-Type.
    pub body: &'a [u8],
    /// The Content-Type it came with.
    pub content_type: Option<&'a str>,
    /// The callback, typed.
    pub callback: &'a Callback<'a>,
    /// What its object did, if it has one.
    pub live: Option<&'a Live<'a>>,
    /// When it was accepted, Unix ms.
    pub at: u64,
}

/// The messages for one accepted callback: one per endpoint that takes it.
pub fn messages(fwd: &Forwarding, cb: &Accepted<'_>) -> Result<Vec<Message>, Error> {
    let event = cb.callback.event();
    let targets: Vec<&Endpoint> = fwd.endpoints_for(cb.app, event).collect();
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let id = webhook::message_id(cb.app, cb.nonce, cb.body);
    let mut typed: Option<String> = None;
    targets
        .into_iter()
        .map(|endpoint| {
            let (content_type, body) = match endpoint.format {
                Format::Typed => {
                    if typed.is_none() {
                        typed = Some(typed_payload(&id, cb)?);
                    }
                    (
                        "application/json".to_owned(),
                        typed.clone().unwrap_or_default(),
                    )
                }
                Format::Raw => (
                    cb.content_type.unwrap_or("application/json").to_owned(),
                    // Bodies were checked to be UTF-8 when they were decoded.
                    String::from_utf8_lossy(cb.body).into_owned(),
                ),
            };
            Ok(Message {
                id: id.clone(),
                endpoint: endpoint.id.clone(),
                app: cb.app.to_owned(),
                event: event.to_owned(),
                attempt: 0,
                accepted_at: cb.at,
                content_type,
                body,
                last_status: None,
                last_error: None,
            })
        })
        .collect()
}

fn typed_payload(id: &str, cb: &Accepted<'_>) -> Result<String, Error> {
    let serialize = |e: serde_json::Error| Error::Storage {
        reason: format!("could not serialize the forwarded callback: {e}"),
    };
    let data = serde_json::to_string(cb.callback).map_err(serialize)?;
    let data = RawValue::from_string(data).map_err(serialize)?;
    serde_json::to_string(&Typed {
        id,
        r#type: cb.callback.event(),
        appid: cb.app,
        received_at: cb.at,
        data: &data,
        live: cb.live,
    })
    .map_err(serialize)
}

/// The type of a correction a check of ZEGO's server API made: the Worker's own, named apart
/// from ZEGO's events.
pub const RECONCILED: &str = "zego_callback.reconciled";

/// What a check changed in a room: the typed payload's `data` for [`RECONCILED`].
#[derive(Debug, Clone, Serialize)]
pub struct Reconciled<'a> {
    /// The room.
    pub room_id: &'a str,
    /// When the check asked ZEGO, Unix ms.
    pub asked_at: u64,
    /// The streams it ended (gone at ZEGO: their `stream_close` was lost), as they were
    /// listed.
    pub ended: &'a [LiveStream],
    /// The streams it listed from ZEGO's answer (their `stream_create` was lost).
    pub listed: &'a [LiveStream],
}

/// The messages for a check's correction of `app`'s room: one per typed endpoint that takes
/// [`RECONCILED`], under one id for this room and this check.
pub fn reconciled_messages(
    fwd: &Forwarding,
    app: &str,
    correction: &Reconciled<'_>,
    live: &Live<'_>,
    at: u64,
) -> Result<Vec<Message>, Error> {
    let targets: Vec<&Endpoint> = fwd
        .endpoints_for(app, RECONCILED)
        .filter(|e| e.format == Format::Typed)
        .collect();
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let nonce = format!("{RECONCILED}:{}", correction.asked_at);
    let id = webhook::message_id(app, &nonce, correction.room_id.as_bytes());
    let serialize = |e: serde_json::Error| Error::Storage {
        reason: format!("could not serialize the correction: {e}"),
    };
    let data = serde_json::to_string(correction).map_err(serialize)?;
    let data = RawValue::from_string(data).map_err(serialize)?;
    let body = serde_json::to_string(&Typed {
        id: &id,
        r#type: RECONCILED,
        appid: app,
        received_at: at,
        data: &data,
        live: Some(live),
    })
    .map_err(serialize)?;
    Ok(targets
        .into_iter()
        .map(|endpoint| Message {
            id: id.clone(),
            endpoint: endpoint.id.clone(),
            app: app.to_owned(),
            event: RECONCILED.to_owned(),
            attempt: 0,
            accepted_at: at,
            content_type: "application/json".to_owned(),
            body: body.clone(),
            last_status: None,
            last_error: None,
        })
        .collect())
}

/// A message for the queue, as text, after `delay_seconds`.
pub fn queue_message(message: &Message, delay_seconds: u32) -> Result<SendMessage<JsValue>, Error> {
    let mut builder = RawMessageBuilder::new(JsValue::from_str(&message.to_json()?));
    if delay_seconds > 0 {
        builder = builder.delay_seconds(delay_seconds);
    }
    Ok(builder.build_with_content_type(QueueContentType::Text))
}

/// Puts messages on the queue bound as `binding`; they are durably stored once this returns.
/// Any failure is `storage_failed` (503: the callback is not acknowledged, ZEGO retries).
pub async fn send(
    env: &Env,
    binding: &str,
    messages: Vec<SendMessage<JsValue>>,
) -> Result<(), Error> {
    if messages.is_empty() {
        return Ok(());
    }
    let queue = env
        .queue(binding)
        .map_err(|e| config::unavailable(binding, e))?;
    let count = messages.len() as u64;
    // A batch holds at most 100 messages.
    let mut rest = messages;
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(100));
        queue
            .send_raw_batch(rest)
            .await
            .map_err(|e| Error::Storage {
                reason: format!("the queue `{binding}` did not take the messages: {e}"),
            })?;
        rest = tail;
    }
    super::costs::count(|c| c.queue_messages += count);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::endpoints::Bindings;

    fn forwarding(endpoints: &str) -> Forwarding {
        Forwarding::parse(&Bindings {
            endpoints: Some(endpoints),
            secret: Some("whsec_c2Vjb25k"),
            ..Bindings::default()
        })
        .unwrap()
        .unwrap()
    }

    const BODY: &str = r#"{"event":"room_close","appid":1,"timestamp":1499676989,"nonce":"350176","signature":"s","room_id":"r","room_session_id":858012925204410401,"close_reason":1,"room_close_time":"1499676989909"}"#;

    #[test]
    fn one_message_per_endpoint_typed_or_raw_with_one_id() {
        let fwd = forwarding(
            r#"{"1": [{"url": "https://a.example/", "name": "a"},
                     {"url": "https://b.example/", "name": "b", "format": "raw"},
                     {"url": "https://c.example/", "name": "c", "events": ["stream_create"]}]}"#,
        );
        let cb = crate::parse(BODY.as_bytes(), None).unwrap();
        let scope = Scope::Room("r".into());
        let written = vec!["r:r:858012925204410401".to_owned()];
        let live = Live {
            scope: ScopeIds::of(&scope),
            written: &written,
            duplicate: false,
            seq: 7,
        };
        let accepted = Accepted {
            app: "1",
            nonce: "350176",
            body: BODY.as_bytes(),
            content_type: Some("application/json; charset=utf-8"),
            callback: &cb,
            live: Some(&live),
            at: 1_700_000_000_123,
        };
        let out = messages(&fwd, &accepted).unwrap();
        assert_eq!(
            out.iter().map(|m| m.endpoint.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(out[0].id, out[1].id);
        assert_eq!(
            out[0].id,
            webhook::message_id("1", "350176", BODY.as_bytes())
        );

        let typed: serde_json::Value = serde_json::from_str(&out[0].body).unwrap();
        assert_eq!(out[0].content_type, "application/json");
        assert_eq!(typed["id"], out[0].id.as_str());
        assert_eq!(typed["type"], "room_close");
        assert_eq!(typed["appid"], "1");
        assert_eq!(typed["received_at"], 1_700_000_000_123u64);
        // The data is the callback as the npm module returns it: the 64-bit id as a string.
        assert_eq!(typed["data"]["room_session_id"], "858012925204410401");
        assert!(out[0]
            .body
            .contains(r#""room_session_id":"858012925204410401""#));
        assert_eq!(typed["live"]["scope"]["room_id"], "r");
        assert_eq!(typed["live"]["seq"], 7);
        assert_eq!(typed["live"]["written"][0], "r:r:858012925204410401");

        assert_eq!(out[1].body, BODY);
        assert_eq!(out[1].content_type, "application/json; charset=utf-8");

        let back = Message::from_json(&out[1].to_json().unwrap()).unwrap();
        assert_eq!(back, out[1]);
    }

    #[test]
    fn an_event_no_endpoint_takes_makes_no_message() {
        let fwd = forwarding(r#"{"2": [{"url": "https://a.example/"}]}"#);
        let cb = crate::parse(BODY.as_bytes(), None).unwrap();
        let accepted = Accepted {
            app: "1",
            nonce: "n",
            body: BODY.as_bytes(),
            content_type: None,
            callback: &cb,
            live: None,
            at: 1,
        };
        assert!(messages(&fwd, &accepted).unwrap().is_empty());
    }

    #[test]
    fn a_correction_goes_to_the_typed_endpoints_that_take_it() {
        let fwd = forwarding(
            r#"{"1": [{"url": "https://a.example/", "name": "a"},
                     {"url": "https://b.example/", "name": "b", "format": "raw"},
                     {"url": "https://c.example/", "name": "c", "events": ["stream_close"]},
                     {"url": "https://d.example/", "name": "d", "events": ["zego_callback.reconciled"]}]}"#,
        );
        let ended = [crate::live::LiveStream::from_check(
            "r",
            &crate::live::ListedStream {
                stream_id: "s".into(),
                user_id: None,
                user_name: None,
                create_time_ms: 5,
                stream_number_id: Some("18446744073709551615".into()),
            },
        )];
        let scope = Scope::Room("r".into());
        let written = vec!["s:r:s".to_owned()];
        let live = Live {
            scope: ScopeIds::of(&scope),
            written: &written,
            duplicate: false,
            seq: 9,
        };
        let correction = Reconciled {
            room_id: "r",
            asked_at: 1_700_000_000_000,
            ended: &ended,
            listed: &[],
        };
        let out = reconciled_messages(&fwd, "1", &correction, &live, 1_700_000_000_500).unwrap();
        assert_eq!(
            out.iter().map(|m| m.endpoint.as_str()).collect::<Vec<_>>(),
            ["a", "d"]
        );
        let typed: serde_json::Value = serde_json::from_str(&out[0].body).unwrap();
        assert_eq!(typed["type"], RECONCILED);
        assert_eq!(typed["id"], out[0].id.as_str());
        assert_eq!(typed["data"]["room_id"], "r");
        assert_eq!(typed["data"]["ended"][0]["source"], "zego_api");
        assert!(out[0]
            .body
            .contains(r#""stream_number_id":"18446744073709551615""#));
        assert_eq!(typed["live"]["seq"], 9);
        // One id per room and check.
        let again = reconciled_messages(&fwd, "1", &correction, &live, 1).unwrap();
        assert_eq!(again[0].id, out[0].id);
        let other = Reconciled {
            asked_at: 1,
            ..correction.clone()
        };
        assert_ne!(
            reconciled_messages(&fwd, "1", &other, &live, 1).unwrap()[0].id,
            out[0].id
        );
        assert!(reconciled_messages(&fwd, "2", &correction, &live, 1)
            .unwrap()
            .is_empty());
    }
}
