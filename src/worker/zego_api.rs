//! ZEGO's server API, as the checks use it: `DescribeSimpleStreamList`, the streams live in a
//! room. The signed request and the reading of its answer are pure functions, tested
//! natively against ZEGO's documented formula; [`ask`] sends it.
//!
//! ```text
//! GET <base>?Action=DescribeSimpleStreamList&RoomId=<room>&AppId=<appid>
//!     &SignatureNonce=<16 hex>&Timestamp=<unix s>&Signature=<hex md5>&SignatureVersion=2.0
//! -> {"Code":0,"Message":"success","RequestId":"..","Data":{"StreamList":[
//!      {"StreamId","UserId","UserName","CreateTime","StreamNumberId"}, ..]}}
//! ```
//!
//! `Signature = hex(md5(AppId + SignatureNonce + ServerSecret + Timestamp))`: the server
//! secret of the app (not its callback secret); ZEGO takes a timestamp up to 10 minutes off.
//! It answers one call per room every 10 s and 50 a second per app; `Code` 0 is success, any
//! other a failure to retry later (154: the list could not be had; 7 and 206: too many
//! calls).

use md5::{Digest, Md5};

use crate::live::ListedStream;
use crate::value::{Fields, Value};

/// The action that lists a room's streams.
pub const ACTION: &str = "DescribeSimpleStreamList";

/// The signature version the request uses.
pub const SIGNATURE_VERSION: &str = "2.0";

/// Codes of a refusal for calling too often: the public "more calls a second than the limit"
/// (7), the business "rate limit exceeded" (206), and `DescribeRTCStreamState`'s "too
/// frequent" (30002).
pub const RATE_LIMIT_CODES: &[u64] = &[7, 206, 30002];

/// The signature of a request: lowercase hex of the MD5 of the four values, concatenated.
pub fn signature(app_id: &str, nonce: &str, server_secret: &str, timestamp: u64) -> String {
    let mut md5 = Md5::new();
    md5.update(app_id.as_bytes());
    md5.update(nonce.as_bytes());
    md5.update(server_secret.as_bytes());
    md5.update(timestamp.to_string().as_bytes());
    hex::encode(md5.finalize())
}

/// What one request says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// The API's base URL, e.g. `https://rtc-api.zego.im/`.
    pub base: &'a str,
    /// The app.
    pub app: &'a str,
    /// The app's server secret.
    pub server_secret: &'a str,
    /// The room.
    pub room_id: &'a str,
    /// 16 hex characters, new for each request.
    pub nonce: &'a str,
    /// Unix seconds.
    pub timestamp: u64,
}

impl Request<'_> {
    /// The URL to GET. The room id is percent-encoded (any byte but a letter or digit, as
    /// the Worker's other URLs: an escaped `-` or `_` decodes the same); every other value is
    /// digits, hex or ASCII letters already.
    pub fn url(&self) -> String {
        use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
        format!(
            "{}?Action={ACTION}&RoomId={}&AppId={}&SignatureNonce={}&Timestamp={}\
             &Signature={}&SignatureVersion={SIGNATURE_VERSION}",
            self.base,
            utf8_percent_encode(self.room_id, NON_ALPHANUMERIC),
            self.app,
            self.nonce,
            self.timestamp,
            signature(self.app, self.nonce, self.server_secret, self.timestamp),
        )
    }
}

/// A nonce: 8 random bytes as 16 hex characters.
pub fn nonce_of(bytes: [u8; 8]) -> String {
    hex::encode(bytes)
}

/// What an answer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The streams live in the room.
    Listed(Vec<ListedStream>),
    /// ZEGO refused for too many calls (HTTP 429, or one of [`RATE_LIMIT_CODES`]).
    RateLimited(String),
    /// Anything else that is not a list: another code, an HTTP error, an answer not as
    /// documented. Nothing is decided from it.
    Failed(String),
}

/// Reads an answer: its HTTP status and body.
pub fn read_answer(status: u16, body: &str) -> Answer {
    if status == 429 {
        return Answer::RateLimited(format!("HTTP 429: {}", excerpt(body)));
    }
    if !(200..300).contains(&status) {
        return Answer::Failed(format!("HTTP {status}: {}", excerpt(body)));
    }
    let fields = match crate::body::decode_json(body) {
        Ok(f) => f,
        Err(e) => return Answer::Failed(format!("the answer is not JSON: {e}")),
    };
    let code = match fields.get("Code").and_then(Value::as_text) {
        Some(code) => code.parse::<u64>().ok(),
        None => return Answer::Failed("the answer has no `Code`".to_owned()),
    };
    let message = fields
        .get("Message")
        .and_then(Value::as_text)
        .unwrap_or_default();
    match code {
        Some(0) => match streams(&fields) {
            Ok(streams) => Answer::Listed(streams),
            Err(e) => Answer::Failed(format!("the answer is not as documented: {e}")),
        },
        Some(code) if RATE_LIMIT_CODES.contains(&code) => {
            Answer::RateLimited(format!("code {code}: {}", excerpt(message)))
        }
        Some(code) => Answer::Failed(format!("code {code}: {}", excerpt(message))),
        None => Answer::Failed("`Code` is not a code".to_owned()),
    }
}

/// At most 200 characters of a text, for a message.
fn excerpt(text: &str) -> String {
    let cut: String = text.chars().take(200).collect();
    if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

/// `Data.StreamList`: `null` is an empty list; anything not as documented fails the whole
/// answer, so that nothing is ended on an answer only half understood.
fn streams(fields: &Fields<'_>) -> Result<Vec<ListedStream>, &'static str> {
    let Some(Value::Object(data)) = fields.get("Data") else {
        return Err("no `Data` object");
    };
    let list = match data.get("StreamList") {
        Some(Value::Array(list)) => list,
        Some(Value::Null) => return Ok(Vec::new()),
        _ => return Err("no `Data.StreamList` array"),
    };
    let mut streams = Vec::with_capacity(list.len());
    for item in list {
        let Value::Object(s) = item else {
            return Err("a `StreamList` item is not an object");
        };
        let text = |name: &str| match s.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_text()
                .map(|t| Some(t.to_owned()))
                .ok_or("a stream's field is neither text nor a number"),
        };
        let stream_id = text("StreamId")?
            .filter(|id| !id.is_empty())
            .ok_or("a stream has no `StreamId`")?;
        let create_time_ms = text("CreateTime")?
            .and_then(|t| t.parse::<u64>().ok())
            .map(as_ms)
            .ok_or("a stream has no `CreateTime` in whole ms")?;
        // A 64-bit number, kept as its digits.
        let stream_number_id = text("StreamNumberId")?
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        streams.push(ListedStream {
            stream_id,
            user_id: text("UserId")?,
            user_name: text("UserName")?,
            create_time_ms,
            stream_number_id,
        });
    }
    Ok(streams)
}

/// `CreateTime` in ms: ZEGO documents milliseconds; a value that can only be seconds (before
/// 1973 as ms) is taken as seconds.
fn as_ms(t: u64) -> u64 {
    if t < 100_000_000_000 {
        t.saturating_mul(1000)
    } else {
        t
    }
}

/// Sends `url` and reads the answer, within `timeout_ms`.
pub async fn ask(url: &str, timeout_ms: u64) -> Answer {
    use super::calls;
    let request = match calls::request(url, ::worker::Method::Get, None, ::worker::Headers::new()) {
        Ok(r) => r,
        Err(e) => return Answer::Failed(e.to_string()),
    };
    match calls::fetch_within(request, timeout_ms).await {
        Ok(mut res) => {
            let status = res.status_code();
            let body = res.text().await.unwrap_or_default();
            read_answer(status, &body)
        }
        Err(why) => Answer::Failed(why),
    }
}

/// Eight bytes from the runtime's cryptographic random source (`crypto.getRandomValues`).
pub fn random_bytes() -> Result<[u8; 8], String> {
    use wasm_bindgen::{JsCast, JsValue};
    let global = js_sys::global();
    let crypto = js_sys::Reflect::get(&global, &JsValue::from_str("crypto"))
        .map_err(|_| "no crypto".to_owned())?;
    let get: js_sys::Function =
        js_sys::Reflect::get(&crypto, &JsValue::from_str("getRandomValues"))
            .ok()
            .and_then(|f| f.dyn_into().ok())
            .ok_or("no crypto.getRandomValues")?;
    let array = js_sys::Uint8Array::new_with_length(8);
    get.call1(&crypto, &array)
        .map_err(|_| "crypto.getRandomValues failed".to_owned())?;
    let mut bytes = [0u8; 8];
    array.copy_to(&mut bytes);
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_known_answer() {
        assert_eq!(
            signature(
                "1234567890",
                "15215528852396",
                "0123456789abcdef0123456789abcdef",
                1234567890
            ),
            "938fc5ae453d3a52392cf77fa9580d02"
        );
    }

    #[test]
    fn the_request_names_every_common_parameter_and_escapes_the_room() {
        let req = Request {
            base: "https://rtc-api.zego.im/",
            app: "1234567890",
            server_secret: "0123456789abcdef0123456789abcdef",
            room_id: "房间 1&x=y/%~._-",
            nonce: "15215528852396",
            timestamp: 1234567890,
        };
        assert_eq!(
            req.url(),
            "https://rtc-api.zego.im/?Action=DescribeSimpleStreamList\
             &RoomId=%E6%88%BF%E9%97%B4%201%26x%3Dy%2F%25%7E%2E%5F%2D&AppId=1234567890\
             &SignatureNonce=15215528852396&Timestamp=1234567890\
             &Signature=938fc5ae453d3a52392cf77fa9580d02&SignatureVersion=2.0"
        );
        assert!(!req.url().contains("0123456789abcdef0123456789abcdef"));
        assert_eq!(
            nonce_of([0, 1, 2, 3, 0xab, 0xcd, 0xef, 0xff]),
            "00010203abcdefff"
        );
    }

    #[test]
    fn reads_the_documented_answer_without_losing_a_digit() {
        let body = r#"{"Code":0,"Message":"success","RequestId":"5885338326725063742",
            "Data":{"StreamList":[
              {"StreamId":"stream_demo","UserId":"user_demo","UserName":"用户",
               "CreateTime":1700000000123,"StreamNumberId":18446744073709551615},
              {"StreamId":"s2","CreateTime":1700000000,"StreamNumberId":"7"}]}}"#;
        let Answer::Listed(streams) = read_answer(200, body) else {
            panic!("{:?}", read_answer(200, body))
        };
        assert_eq!(
            streams[0],
            ListedStream {
                stream_id: "stream_demo".into(),
                user_id: Some("user_demo".into()),
                user_name: Some("用户".into()),
                create_time_ms: 1_700_000_000_123,
                stream_number_id: Some("18446744073709551615".into()),
            }
        );
        // Seconds are taken as seconds.
        assert_eq!(streams[1].create_time_ms, 1_700_000_000_000);
        assert_eq!(streams[1].user_id, None);
        let empty = r#"{"Code":0,"Message":"success","RequestId":"1","Data":{"StreamList":null}}"#;
        assert_eq!(read_answer(200, empty), Answer::Listed(Vec::new()));
        let none = r#"{"Code":0,"Data":{"StreamList":[]}}"#;
        assert_eq!(read_answer(200, none), Answer::Listed(Vec::new()));
    }

    #[test]
    fn anything_but_a_documented_list_decides_nothing() {
        for (status, body, rate_limited) in [
            (
                200,
                r#"{"Code":154,"Message":"get list failed","RequestId":"1"}"#,
                false,
            ),
            (
                200,
                r#"{"Code":7,"Message":"too many","RequestId":"1"}"#,
                true,
            ),
            (200, r#"{"Code":206,"Message":"rate limit"}"#, true),
            (429, "slow down", true),
            (500, "oops", false),
            (503, "", false),
            (200, "<html>", false),
            (200, r#"{"Message":"no code"}"#, false),
            (200, r#"{"Code":"x"}"#, false),
            (200, r#"{"Code":0}"#, false),
            (200, r#"{"Code":0,"Data":{}}"#, false),
            (
                200,
                r#"{"Code":0,"Data":{"StreamList":[{"UserId":"u","CreateTime":1}]}}"#,
                false,
            ),
            (
                200,
                r#"{"Code":0,"Data":{"StreamList":[{"StreamId":"a"}]}}"#,
                false,
            ),
            (
                200,
                r#"{"Code":0,"Data":{"StreamList":[{"StreamId":"a","CreateTime":-1}]}}"#,
                false,
            ),
            (200, r#"{"Code":0,"Data":{"StreamList":[1]}}"#, false),
        ] {
            let answer = read_answer(status, body);
            match (&answer, rate_limited) {
                (Answer::RateLimited(_), true) | (Answer::Failed(_), false) => {}
                _ => panic!("{status} {body}: {answer:?}"),
            }
        }
        // A number where a string is documented is read as its text.
        let numeric = r#"{"Code":0,"Data":{"StreamList":[{"StreamId":5,"CreateTime":1e3}]}}"#;
        assert!(
            matches!(read_answer(200, numeric), Answer::Failed(_)),
            "1e3 is no time"
        );
        let numeric = r#"{"Code":0,"Data":{"StreamList":[{"StreamId":5,"CreateTime":1000}]}}"#;
        let Answer::Listed(list) = read_answer(200, numeric) else {
            panic!()
        };
        assert_eq!(list[0].stream_id, "5");
        let Answer::Failed(why) = read_answer(200, r#"{"Code":154,"Message":"get list failed"}"#)
        else {
            panic!()
        };
        assert!(
            why.contains("154") && why.contains("get list failed"),
            "{why}"
        );
    }
}
