//! `GET /subscribe`: an app-wide subscriber's socket, gathered from the app's `Hub` shards
//! ([`super::names::HUB_SHARDS`]).
//!
//! The Worker opens one socket to each shard and relays to the subscriber: first one
//! snapshot, merged from the shards' snapshots once all of them have arrived
//! ([`frames::merge_snapshots`]), then what a shard sent meanwhile, then every change as it
//! comes. A room's changes all pass through one shard, in the order the room applied them,
//! and one shard's frames are relayed in the order they arrive: each room's changes reach
//! the subscriber in order. A shard that closes closes the subscriber's socket (code 1011),
//! as one hub closing did; the subscriber connects again and gets a new snapshot.

use ::worker::{Env, Headers, Method, Response, WebSocket, WebSocketPair, WebsocketEvent};
use futures_util::future::poll_fn;
use futures_util::stream::StreamExt;
use std::task::Poll;

use super::calls::{self, internal};
use super::config::{self, HUB_BINDING};
use super::frames;
use super::names::{hub_name, HUB_SHARDS};
use super::sql::storage;
use crate::Error;

/// Opens the app's shards' sockets and answers with the subscriber's. The shards are asked
/// one after the other: a subscription is rare, the code of a join over sixteen is not, and
/// only one connection at a time waits for its answer's headers (a Worker may have six
/// waiting; once answered, an open socket does not count).
pub async fn subscribe(env: &Env, app: &str) -> Result<Response, Error> {
    let hubs = config::namespace(env, HUB_BINDING)?;
    let url = calls::url("/subscribe", &[("app", app)])?;
    let mut shards = Vec::with_capacity(usize::from(HUB_SHARDS));
    for shard in 0..HUB_SHARDS {
        let headers = Headers::new();
        headers.set("upgrade", "websocket").map_err(internal)?;
        let req = calls::request(&url, Method::Get, None, headers)?;
        let res = calls::send(&hubs, &hub_name(app, shard), req).await?;
        shards.push(
            res.websocket()
                .ok_or_else(|| storage("a hub shard", "answered without a socket"))?,
        );
    }
    let pair = WebSocketPair::new().map_err(internal)?;
    let app = app.to_owned();
    let client = pair.server;
    ::worker::wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = relay(&app, &client, &shards).await {
            ::worker::console_error!("the app's socket failed: {e}");
            let _ = client.close(Some(1011), Some("a hub shard failed"));
        }
        for shard in &shards {
            calls::close_socket(shard);
        }
    });
    Response::from_websocket(pair.client).map_err(internal)
}

/// Where an event came from.
#[derive(Clone, Copy)]
enum From {
    Subscriber,
    Shard(usize),
}

/// Relays until the subscriber leaves (`Ok`) or a shard fails or closes (`Err`).
async fn relay(app: &str, client: &WebSocket, shards: &[WebSocket]) -> Result<(), Error> {
    // Listeners first, then accept: no frame arrives before someone listens.
    let mut from_shards = Vec::with_capacity(shards.len());
    for ws in shards {
        from_shards.push(ws.events().map_err(internal)?);
        ws.accept().map_err(internal)?;
    }
    let mut from_client = client.events().map_err(internal)?;
    client.accept().map_err(internal)?;
    // The shards are polled from a rotating start, so that a busy one does not keep the
    // others waiting.
    let mut start = 0;
    let mut snapshots: Vec<Option<String>> = vec![None; shards.len()];
    let mut missing = shards.len();
    let mut held: Vec<String> = Vec::new();
    loop {
        start = (start + 1) % from_shards.len().max(1);
        let (from, event) = poll_fn(|cx| {
            if let Poll::Ready(e) = from_client.poll_next_unpin(cx) {
                return Poll::Ready((From::Subscriber, e));
            }
            let n = from_shards.len();
            for i in (0..n).map(|k| (start + k) % n) {
                if let Some(Poll::Ready(e)) = from_shards.get_mut(i).map(|s| s.poll_next_unpin(cx))
                {
                    return Poll::Ready((From::Shard(i), e));
                }
            }
            Poll::Pending
        })
        .await;
        // A stream ends after its socket's close event.
        let Some(event) = event else {
            return match from {
                From::Subscriber => Ok(()),
                From::Shard(i) => Err(storage("a hub shard", format!("shard {i} ended"))),
            };
        };
        let event = event.map_err(internal)?;
        let text = match (from, event) {
            (From::Subscriber, WebsocketEvent::Close(_)) => {
                calls::close_socket(client);
                return Ok(());
            }
            // Subscribers have nothing to say.
            (From::Subscriber, WebsocketEvent::Message(_)) => continue,
            (From::Shard(i), WebsocketEvent::Close(c)) => {
                return Err(storage(
                    &format!("hub shard {i} closed"),
                    format!("{} {}", c.code(), c.reason()),
                ))
            }
            (From::Shard(i), WebsocketEvent::Message(m)) => match m.text() {
                Some(text) => (i, text),
                None => continue,
            },
        };
        let (shard, text) = text;
        let first = snapshots.get_mut(shard).filter(|s| s.is_none());
        if missing == 0 {
            client.send_with_str(&text).map_err(internal)?;
        } else if let Some(slot) = first {
            *slot = Some(text);
            missing -= 1;
            if missing == 0 {
                let parts: Vec<String> = snapshots.iter_mut().filter_map(Option::take).collect();
                let merged = frames::merge_snapshots(app, &parts)
                    .map_err(|e| storage("a hub shard's snapshot", e))?;
                client.send_with_str(&merged).map_err(internal)?;
                for text in held.drain(..) {
                    client.send_with_str(&text).map_err(internal)?;
                }
            }
        } else {
            held.push(text);
        }
    }
}
