//! Every fixture in tests/fixtures/index.json, through `parse` and `Receiver::receive`.

mod common;

use zego_callback::{parse, Callback, Codec, Error, Id64, Receiver, Value};

#[test]
fn good_fixtures_parse_to_their_event() {
    let m = common::manifest();
    let mut seen = 0;
    for f in m.fixtures.iter().filter(|f| f.event.is_some()) {
        let body = f.body();
        let cb =
            parse(&body, f.content_type.as_deref()).unwrap_or_else(|e| panic!("{}: {e}", f.file));
        assert_eq!(cb.event(), f.event.as_deref().unwrap(), "{}", f.file);
        seen += 1;
    }
    assert!(seen >= 13, "only {seen} good fixtures");
}

#[test]
fn bad_fixtures_give_their_error_code() {
    let m = common::manifest();
    let bad: Vec<_> = m.fixtures.iter().filter(|f| f.error.is_some()).collect();
    assert!(bad.len() >= 10);
    for f in bad {
        let e = parse(&f.body(), f.content_type.as_deref()).expect_err(&f.file);
        assert_eq!(e.code(), f.error.as_deref().unwrap(), "{}: {e}", f.file);
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn signed_fixtures_verify_inside_the_window_only() {
    let m = common::manifest();
    let signed: Vec<_> = m
        .fixtures
        .iter()
        .filter(|f| !f.secrets().is_empty())
        .collect();
    assert!(signed.len() >= 9);
    for f in signed {
        let r = Receiver::with_secrets(f.secrets()).unwrap();
        let now = f.now.unwrap();
        let body = f.body();
        let ct = f.content_type.as_deref();
        let cb = r
            .receive(&body, ct, now)
            .unwrap_or_else(|e| panic!("{}: {e}", f.file));
        assert_eq!(cb.event(), f.event.as_deref().unwrap());
        let late = r.receive(&body, ct, now + 301).unwrap_err();
        assert_eq!(late.code(), "timestamp_out_of_window", "{}", f.file);
        let early = r.receive(&body, ct, now - 301).unwrap_err();
        assert_eq!(early.code(), "timestamp_out_of_window", "{}", f.file);
        let wrong = Receiver::new("not-the-secret").unwrap();
        assert_eq!(
            wrong.receive(&body, ct, now).unwrap_err(),
            Error::InvalidSignature,
            "{}",
            f.file
        );
    }
}

#[test]
fn one_changed_signature_digit_is_refused() {
    let m = common::manifest();
    let f = m
        .fixtures
        .iter()
        .find(|f| f.file == "signed/stream_create.json")
        .unwrap();
    let body = String::from_utf8(f.body()).unwrap();
    let sig_at = body.find(r#""signature": ""#).unwrap() + 14;
    let mut bytes = body.into_bytes();
    bytes[sig_at] = if bytes[sig_at] == b'0' { b'1' } else { b'0' };
    let r = Receiver::new(&m.secret).unwrap();
    assert_eq!(
        r.receive(&bytes, None, f.now.unwrap()).unwrap_err(),
        Error::InvalidSignature
    );
}

#[test]
fn unsigned_doc_examples_are_refused_by_receive() {
    let m = common::manifest();
    let r = Receiver::new(&m.secret).unwrap();
    for f in m.fixtures.iter().filter(|f| f.file.starts_with("seeds/")) {
        let e = r
            .receive(&f.body(), f.content_type.as_deref(), 1_700_000_000)
            .unwrap_err();
        assert_eq!(e, Error::InvalidSignature, "{}", f.file);
    }
}

fn fixture(name: &str) -> Callback<'static> {
    let m = common::manifest();
    let f = m.fixtures.iter().find(|f| f.file == name).unwrap();
    parse(&f.body(), f.content_type.as_deref())
        .unwrap()
        .into_owned()
}

#[test]
fn seed_stream_create_is_typed_field_by_field() {
    let Callback::StreamCreate(c) = fixture("seeds/stream_create.json") else {
        panic!()
    };
    assert_eq!(c.envelope.appid, 1);
    assert_eq!(c.envelope.timestamp.secs, 1687981272);
    assert_eq!(c.envelope.nonce, "7254119327986670314");
    assert_eq!(c.room_id, "room1");
    assert_eq!(c.room_session_id, Id64(1234567));
    assert_eq!(c.stream_seq, 1, "\"01\" is 1");
    assert_eq!(c.create_time, Some(1687981272));
    assert_eq!(c.create_time_ms, 1687981272742);
    assert_eq!(c.recreate, Some(0));
    assert_eq!(c.stream_attr.as_ref().unwrap().raw, r#"{"cid":0}"#);
    assert_eq!(c.stream_attr.as_ref().unwrap().codec, Some(Codec::H264));
    assert_eq!(c.rtmp_url.len(), 2);
    assert_eq!(c.pic_url, ["http://pic.wsdemo.zego.im/zegodemo/aaa.jpg"]);
    assert!(c.extra.is_empty());
}

#[test]
fn form_and_json_give_the_same_stream_create() {
    let Callback::StreamCreate(json) = fixture("signed/stream_create.json") else {
        panic!()
    };
    for form in [
        "signed/stream_create.form",
        "signed/stream_create_json_arrays.form",
    ] {
        let Callback::StreamCreate(f) = fixture(form) else {
            panic!()
        };
        assert_eq!(f, json, "{form}");
    }
}

#[test]
fn seed_stream_close_and_mix_stop() {
    let Callback::StreamClose(c) = fixture("seeds/stream_close.json") else {
        panic!()
    };
    assert_eq!(
        (c.r#type, c.stream_seq, c.destroy_timemillis),
        (Some(0), 700, 1666986067248)
    );
    assert_eq!(
        c.third_define_data.as_deref(),
        Some(r#"{"u":"S1lxOUxMN2tRZ3lIY0JMSUs3VlMxZz09"}"#)
    );
    let Callback::MixStop(m) = fixture("seeds/mix_stop.json") else {
        panic!()
    };
    assert_eq!(
        (m.envelope.appid, m.seq, &*m.task_id),
        (111111, 1234, "111111:1111")
    );
}

#[test]
fn room_session_ids_keep_every_digit() {
    let Callback::RoomClose(a) = fixture("seeds/room_close.json") else {
        panic!()
    };
    let Callback::RoomClose(b) = fixture("signed/room_close_401.json") else {
        panic!()
    };
    assert_eq!(a.room_session_id.to_string(), "858012925204410400");
    assert_eq!(b.room_session_id.to_string(), "858012925204410401");
    assert_eq!(
        (a.close_reason, a.room_close_time),
        (Some(1), 1499676989909)
    );
    let json = serde_json::to_string(&Callback::RoomClose(b)).unwrap();
    assert!(
        json.contains(r#""room_session_id":"858012925204410401""#),
        "{json}"
    );
}

#[test]
fn unknown_event_keeps_every_field_exactly() {
    let Callback::Unknown(u) = fixture("signed/unknown_event.json") else {
        panic!()
    };
    assert_eq!(u.event, "transcode_start");
    assert_eq!(
        u.fields.get("RoomSeq"),
        Some(&Value::Number("858012925204410401".into()))
    );
    let json = serde_json::to_value(Callback::Unknown(u)).unwrap();
    assert_eq!(json["known"], false);
    assert_eq!(json["fields"]["RoomSeq"], "858012925204410401");
    assert_eq!(json["fields"]["AppId"], 1);
}

#[test]
fn json_form_of_a_callback_uses_zego_names() {
    let json = serde_json::to_value(fixture("seeds/stream_create.json")).unwrap();
    assert_eq!(json["event"], "stream_create");
    assert_eq!(json["known"], true);
    assert_eq!(json["room_session_id"], "1234567");
    assert_eq!(json["stream_seq"], 1);
    assert_eq!(json["stream_attr"], r#"{"cid":0}"#);
    assert_eq!(json["codec"]["name"], "H.264");
    assert_eq!(json["extra"], serde_json::json!({}));
}
