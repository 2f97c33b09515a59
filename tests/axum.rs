//! The axum extractor end to end: examples/axum.rs's router on a real port, with signed
//! callbacks posted over HTTP/1.1 the way ZEGO's servers post them.

mod common;
#[allow(dead_code)]
#[path = "../examples/axum.rs"]
mod example;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use zego_callback::axum::ZegoState;
use zego_callback::replay::{Claim, MemoryNonceStore, NonceStore};
use zego_callback::{sign, Receiver, DEFAULT_MAX_BODY_BYTES};

const SECRET: &str = "zego-axum-secret";
/// Above 2^53: a JS number or an f64 would round it.
const ROOM_SESSION_ID: u64 = 858012925204410401;

/// Starts the example's router on 127.0.0.1, on a port of its own, for the rest of the test.
fn serve(zego: ZegoState) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            axum::serve(listener, example::router(zego))
                .await
                .expect("serve");
        });
    });
    addr
}

fn state() -> ZegoState {
    ZegoState::new(Receiver::new(SECRET).unwrap())
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The error code of a refusal, after checking the refusal's shape.
    fn code(&self) -> String {
        let answer = self.json();
        let error = &answer["error"];
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{answer}"
        );
        assert!(
            error.get("field").is_some(),
            "field is always there: {answer}"
        );
        assert!(
            self.head
                .to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{}",
            self.head
        );
        error["code"].as_str().unwrap_or_default().to_owned()
    }
}

/// Sends `head` and then `body`, and reads the answer to the end (every request says
/// `Connection: close`).
fn exchange(addr: SocketAddr, head: &str, body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).expect("connect");
    // Only so that a hung server fails the test instead of hanging it.
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream.write_all(head.as_bytes()).expect("write the head");
    stream.write_all(body).expect("write the body");
    read_answer(&mut stream)
}

fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the answer");
    let text = String::from_utf8(raw).expect("a UTF-8 answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {head}"));
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse::<usize>().ok());
    assert_eq!(length, Some(body.len()), "{head}");
    Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

fn post(addr: SocketAddr, content_type: &str, body: &[u8]) -> Answer {
    let head = format!(
        "POST /zego/callback HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    exchange(addr, &head, body)
}

fn post_json(addr: SocketAddr, body: &str) -> Answer {
    post(addr, "application/json", body.as_bytes())
}

fn get_streams(addr: SocketAddr) -> Answer {
    let head = format!("GET /streams HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    exchange(addr, &head, b"")
}

/// ZEGO's documented `stream_create` (tests/fixtures/seeds) in `room_id`/`stream_id`, in a
/// session whose id is above 2^53, signed with `secret` at `timestamp` with `nonce`.
fn stream_create(
    secret: &str,
    timestamp: i64,
    nonce: &str,
    room_id: &str,
    stream_id: &str,
) -> String {
    let seed = std::fs::read(common::dir().join("seeds/stream_create.json")).unwrap();
    let mut body: Value = serde_json::from_slice(&seed).unwrap();
    let ts = timestamp.to_string();
    body["timestamp"] = json!(ts);
    body["nonce"] = json!(nonce);
    body["signature"] = json!(sign(secret, &ts, nonce));
    body["room_id"] = json!(room_id);
    body["stream_id"] = json!(stream_id);
    body["room_session_id"] = json!(ROOM_SESSION_ID);
    let text = body.to_string();
    assert!(
        text.contains(r#""room_session_id":858012925204410401"#),
        "a JSON number"
    );
    text
}

fn live_streams(addr: SocketAddr) -> Vec<Value> {
    let answer = get_streams(addr);
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.json()["streams"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_valid_callback_reaches_the_handler_with_its_exact_ids() {
    let addr = serve(state());
    let answer = post_json(
        addr,
        &stream_create(SECRET, now(), "n-valid", "room1", "s1"),
    );
    assert_eq!(answer.status, 200, "{answer:?}");
    let answer = answer.json();
    assert_eq!(answer["event"], "stream_create");
    assert_eq!(answer["written"], json!(["s:room1:s1"]));
    let streams = live_streams(addr);
    assert_eq!(streams.len(), 1, "{streams:?}");
    assert_eq!(streams[0]["stream_id"], "s1");
    // Kept as a u64 and written back as its decimal digits, every one of them.
    assert_eq!(streams[0]["room_session_id"], "858012925204410401");
}

#[test]
fn a_wrong_secret_is_401_and_reaches_no_handler() {
    let addr = serve(state());
    let answer = post_json(
        addr,
        &stream_create("not-the-secret", now(), "n", "room1", "s1"),
    );
    assert_eq!(answer.status, 401, "{answer:?}");
    assert_eq!(
        answer.json(),
        json!({"error": {"code": "invalid_signature", "message": "invalid signature", "field": null}})
    );
    assert!(live_streams(addr).is_empty());
}

#[test]
fn a_stale_timestamp_is_401_past_or_future() {
    let addr = serve(state());
    for timestamp in [now() - 1_000, now() + 1_000] {
        let answer = post_json(addr, &stream_create(SECRET, timestamp, "n", "room1", "s1"));
        assert_eq!(answer.status, 401, "{answer:?}");
        assert_eq!(answer.code(), "timestamp_out_of_window");
    }
    assert!(live_streams(addr).is_empty());
}

#[test]
fn a_signature_replayed_with_another_body_is_409() {
    let addr = serve(state());
    let ts = now();
    let first = stream_create(SECRET, ts, "n-replay", "room1", "s1");
    assert_eq!(post_json(addr, &first).status, 200);
    // The same timestamp, nonce and signature (all that is signed), another room.
    let replay = stream_create(SECRET, ts, "n-replay", "room2", "s1");
    let answer = post_json(addr, &replay);
    assert_eq!(answer.status, 409, "{answer:?}");
    assert_eq!(answer.code(), "replayed_nonce");
    let streams = live_streams(addr);
    assert_eq!(streams.len(), 1);
    assert_eq!(streams[0]["room_id"], "room1", "the replay was not applied");
    // The same pair signed at another second is another claim.
    let later = stream_create(SECRET, ts + 1, "n-replay", "room2", "s1");
    assert_eq!(post_json(addr, &later).status, 200);
}

#[test]
fn a_retry_of_the_same_body_is_handled_again() {
    let addr = serve(state());
    let body = stream_create(SECRET, now(), "n-retry", "room1", "s1");
    let first = post_json(addr, &body);
    assert_eq!(first.status, 200, "{first:?}");
    let retry = post_json(addr, &body);
    assert_eq!(retry.status, 200, "{retry:?}");
    // The handler's own answer: it ran again; the list rules made it change nothing.
    assert_eq!(
        retry.json(),
        json!({"ok": true, "event": "stream_create", "written": []})
    );
}

#[test]
fn unknown_events_are_claimed_by_their_pascal_case_nonce() {
    let addr = serve(state());
    let fixture = std::fs::read(common::dir().join("signed/unknown_event.json")).unwrap();
    let mut body: Value = serde_json::from_slice(&fixture).unwrap();
    let ts = now();
    body["Timestamp"] = json!(ts);
    body["Signature"] = json!(sign(SECRET, &ts.to_string(), "42"));
    let answer = post_json(addr, &body.to_string());
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json()["event"], "transcode_start");
    body["TaskId"] = json!("t-2");
    let answer = post_json(addr, &body.to_string());
    assert_eq!(answer.status, 409, "{answer:?}");
    assert_eq!(answer.code(), "replayed_nonce");
}

#[test]
fn a_form_body_is_received_like_json() {
    let addr = serve(state());
    let form = std::fs::read_to_string(common::dir().join("signed/stream_create.form")).unwrap();
    let ts = now().to_string();
    let nonce = "7254119327986670314";
    let signed = form
        .replace("timestamp=1687981272&", &format!("timestamp={ts}&"))
        .replace(
            "signature=09d07a2aa0d7e50283a745901b67a2d4e55ce78a",
            &format!("signature={}", sign(SECRET, &ts, nonce)),
        );
    assert_ne!(signed, form);
    let answer = post(addr, "application/x-www-form-urlencoded", signed.as_bytes());
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json()["written"], json!(["s:room1:stream_id"]));
    assert_eq!(live_streams(addr)[0]["room_session_id"], "1234567");
}

#[test]
fn an_unsupported_content_type_is_415() {
    let addr = serve(state());
    let body = stream_create(SECRET, now(), "n", "room1", "s1");
    let answer = post(addr, "application/xml", body.as_bytes());
    assert_eq!(answer.status, 415, "{answer:?}");
    assert_eq!(answer.code(), "unsupported_content_type");
}

#[test]
fn an_oversized_body_is_413_by_its_content_length_before_it_is_sent() {
    let addr = serve(state());
    let size = DEFAULT_MAX_BODY_BYTES + 1;
    let head = format!(
        "POST /zego/callback HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {size}\r\nConnection: close\r\n\r\n"
    );
    // No byte of the body is sent: the answer comes from the head alone.
    let answer = exchange(addr, &head, b"");
    assert_eq!(answer.status, 413, "{answer:?}");
    assert_eq!(answer.code(), "body_too_large");
    assert!(answer.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&size.to_string()));
}

#[test]
fn an_oversized_chunked_body_is_413_while_it_is_read_and_the_sender_can_finish() {
    let addr = serve(state());
    let head = format!(
        "POST /zego/callback HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream.write_all(head.as_bytes()).expect("write the head");
    // Spaces (valid JSON all along, so that only the size can refuse it), in chunks sent one
    // at a time, as a slow sender would: the server reads on past the limit rather than
    // close the connection under the sender, whose writes would then fail.
    let chunk = [b' '; 16 * 1024];
    let mut sent = 0;
    while sent <= 2 * DEFAULT_MAX_BODY_BYTES {
        let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
        framed.extend_from_slice(&chunk);
        framed.extend_from_slice(b"\r\n");
        stream.write_all(&framed).expect("the server still reads");
        sent += chunk.len();
        std::thread::sleep(Duration::from_millis(20));
    }
    stream
        .write_all(b"0\r\n\r\n")
        .expect("the server still reads");
    let answer = read_answer(&mut stream);
    assert_eq!(answer.status, 413, "{answer:?}");
    assert_eq!(answer.code(), "body_too_large");
}

#[test]
fn a_body_at_the_limit_is_read_whole() {
    let addr = serve(ZegoState::new(
        Receiver::new(SECRET).unwrap().max_body_bytes(4096),
    ));
    let body = stream_create(SECRET, now(), "n", "room1", "s1");
    // Padded with spaces inside the object to exactly the limit.
    let padded = format!("{}{}", " ".repeat(4096 - body.len()), body);
    assert_eq!(padded.len(), 4096);
    assert_eq!(post_json(addr, &padded).status, 200);
    let over = format!(" {padded}");
    assert_eq!(post_json(addr, &over).status, 413);
}

/// A store whose backend is down, with an error that names its host.
struct Unreachable;

impl NonceStore for Unreachable {
    type Error = io::Error;

    async fn claim(&self, _key: &str, _digest: &str, _ttl: u64) -> Result<Claim, io::Error> {
        Err(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "connection refused: redis://10.1.2.3:6379",
        ))
    }
}

#[test]
fn a_failing_store_is_503_without_its_own_message() {
    let addr = serve(state().with_nonce_store(Unreachable));
    let answer = post_json(addr, &stream_create(SECRET, now(), "n", "room1", "s1"));
    assert_eq!(answer.status, 503, "{answer:?}");
    assert_eq!(answer.code(), "storage_failed");
    assert!(!answer.body.contains("10.1.2.3"), "{}", answer.body);
    assert!(!answer.body.contains("redis"), "{}", answer.body);
    assert!(live_streams(addr).is_empty());
}

/// What a handler that takes `Result<ZegoCallback, ZegoRejection>` can log before answering.
#[test]
fn a_rejection_keeps_the_store_error_for_the_logs() {
    use axum::extract::FromRequest;
    use std::error::Error as _;
    use zego_callback::axum::{ZegoCallback, ZegoRejection};

    let zego = state().with_nonce_store(Unreachable);
    let body = stream_create(SECRET, now(), "n", "room1", "s1");
    let request = axum::http::Request::post("/zego/callback")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let rejection: ZegoRejection = runtime
        .block_on(ZegoCallback::from_request(request, &zego))
        .expect_err("the store is down");
    assert_eq!(rejection.error().code(), "storage_failed");
    assert_eq!(rejection.status(), 503);
    assert!(!rejection.to_string().contains("10.1.2.3"), "{rejection}");
    let source = rejection.source().expect("the store's error");
    assert!(source.to_string().contains("10.1.2.3"), "{source}");
}

#[test]
fn a_full_memory_store_refuses_a_new_claim_with_503() {
    let store = MemoryNonceStore::new().max_entries(1);
    let addr = serve(state().with_nonce_store(store));
    assert_eq!(
        post_json(addr, &stream_create(SECRET, now(), "n1", "room1", "s1")).status,
        200
    );
    let answer = post_json(addr, &stream_create(SECRET, now(), "n2", "room1", "s2"));
    assert_eq!(answer.status, 503, "{answer:?}");
    assert_eq!(answer.code(), "storage_failed");
    assert!(
        answer.body.contains("full"),
        "its own message is kept: {}",
        answer.body
    );
}

#[test]
fn without_a_store_nothing_is_claimed() {
    let addr = serve(state().without_nonce_store());
    let ts = now();
    assert_eq!(
        post_json(addr, &stream_create(SECRET, ts, "n", "room1", "s1")).status,
        200
    );
    let answer = post_json(addr, &stream_create(SECRET, ts, "n", "room2", "s1"));
    assert_eq!(answer.status, 200, "{answer:?}");
}

#[test]
fn the_readme_shows_the_extractor_as_its_compiled_doc_example() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let module = std::fs::read_to_string(root.join("src/axum.rs")).unwrap();
    let section = &readme[readme
        .find("### In axum")
        .expect("the README's axum section")..];
    let block = section
        .split("```rust,ignore\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a Rust block");
    let doc: Vec<&str> = module
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .collect();
    let mut lines = 0;
    for line in block.lines() {
        let expected = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        assert!(
            doc.contains(&expected.as_str()),
            "not in src/axum.rs's example: {line}"
        );
        lines += 1;
    }
    assert!(lines >= 3, "{block}");
}
