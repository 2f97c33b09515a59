//! A live stream list kept from ZEGO's callbacks, in an axum app:
//! `cargo run --example axum --features axum` (PORT, ZEGO_CALLBACK_SECRET: one secret, or
//! several comma-separated while rotating). `POST /zego/callback` receives, `GET /streams`
//! lists the live streams as JSON. tests/axum.rs posts signed callbacks to this router.

use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{FromRef, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use zego_callback::axum::{ZegoCallback, ZegoRejection, ZegoState};
use zego_callback::{Callback, LiveList, Receiver};

/// The app's state: the callback receiver beside what the app keeps.
#[derive(Clone)]
struct App {
    zego: ZegoState,
    live: Arc<Mutex<LiveList>>,
}

// What lets `ZegoCallback` find the receiver and the nonce store in a larger state.
impl FromRef<App> for ZegoState {
    fn from_ref(app: &App) -> ZegoState {
        app.zego.clone()
    }
}

/// The app's routes, receiving with `zego`.
pub fn router(zego: ZegoState) -> Router {
    let app = App {
        zego,
        live: Arc::default(),
    };
    Router::new()
        .route("/zego/callback", post(on_zego))
        .route("/streams", get(streams))
        .with_state(app)
}

/// A verified callback: applied to the list. A refused one never gets here: the extractor
/// has answered it (401, 409, 413, ...).
async fn on_zego(State(app): State<App>, ZegoCallback(cb): ZegoCallback) -> Response {
    if let Callback::StreamCreate(c) = &cb {
        println!(
            "stream_create {}/{} session {}",
            c.room_id, c.stream_id, c.room_session_id
        );
    }
    let applied = app
        .live
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .apply(&cb);
    match applied {
        Ok(written) => json(
            StatusCode::OK,
            &serde_json::json!({ "ok": true, "event": cb.event(), "written": written }),
        ),
        // An id too long for a key: the same table answers it.
        Err(e) => ZegoRejection::from(e).into_response(),
    }
}

/// The live streams and running mixes; 64-bit ids as decimal strings.
async fn streams(State(app): State<App>) -> Response {
    let live = app.live.lock().unwrap_or_else(PoisonError::into_inner);
    json(StatusCode::OK, &live.view())
}

fn json(status: StatusCode, body: &impl serde::Serialize) -> Response {
    match serde_json::to_string(body) {
        Ok(text) => (status, [(header::CONTENT_TYPE, "application/json")], text).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secrets =
        std::env::var("ZEGO_CALLBACK_SECRET").unwrap_or_else(|_| "zego-dev-secret".into());
    let zego = ZegoState::new(Receiver::with_secrets(secrets.split(','))?);
    let port: u16 = std::env::var("PORT").map_or(Ok(3000), |p| p.parse())?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router(zego)).await?;
    Ok(())
}
