use super::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures");

fn case(
    body: impl Into<Vec<u8>>,
    secrets: &[&str],
    content_type: Option<&'static str>,
    now: i64,
) -> Case {
    Case {
        body: body.into(),
        secrets: secrets.iter().map(|s| s.to_string()).collect(),
        content_type,
        now,
        tolerance: 300,
        max_body: 65536,
    }
}

/// A content type of index.json as one of ours.
fn content_type(name: Option<&str>) -> Option<&'static str> {
    let name = name?;
    CONTENT_TYPES
        .iter()
        .flatten()
        .copied()
        .find(|c| *c == name)
        .or_else(|| panic!("{name}"))
}

/// The inputs of the first test of tests/node/spans.test.mjs ("every fixture: the same
/// callback or the same error on both paths"), with one and two secrets (three take the
/// full path in JS). There the real builders give the full path's object; here the copy
/// does too, so the two agree on every one of them described.
#[test]
fn every_fixture_agrees() {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{FIXTURES}/index.json")).unwrap())
            .unwrap();
    let mut described = Vec::new();
    for f in manifest["fixtures"].as_array().unwrap() {
        let file = f["file"].as_str().unwrap();
        let body = std::fs::read(format!("{FIXTURES}/{file}")).unwrap();
        let secret = f["secret"].as_str().unwrap_or(SECRET);
        let now = f["now"].as_i64().unwrap_or(1687981272);
        let ct = content_type(f["content_type"].as_str());
        for secrets in [&[secret][..], &["not-it", secret]] {
            let outcome = check(&case(body.clone(), secrets, ct, now));
            match outcome {
                Ok(Outcome::Described(event)) => described.push(format!("{file} {event}")),
                Ok(Outcome::Declined) => {}
                Err(e) => panic!("{file}: {e}"),
            }
        }
    }
    // The five JSON fixtures of documented events signed by the manifest's secret, with each
    // set of secrets (the JS test counts them, as bytes and as a string, at least 10).
    assert_eq!(described.len(), 10, "{described:#?}");
}

fn signed(fields: &str) -> String {
    let sig = sign(SECRET, "1700000000", "n");
    format!(
        r#"{{"event":"mix_start","appid":1,"timestamp":"1700000000","nonce":"n","signature":"{sig}",{fields}}}"#
    )
}

/// Bodies the span path describes in each of its modes, as in src/spans.rs's tests and the
/// special cases of tests/node/spans.test.mjs.
#[test]
fn each_mode_agrees() {
    let bodies = [
        signed(r#""seq":"07","task_id":"t1","mix_url":"\u0072tmp""#),
        signed(
            r#""seq":1,"task_id":"😀张三","rtmp_urls":["a","b\"c"],"hls_urls":"one","hdl_urls":null"#,
        ),
        signed(r#""seq":1,"task_id":"t","z":-12,"y":1.50,"x":9007199254740993,"w":true,"v":null"#),
        signed(r#""seq":1,"task_id":"t","2":"two","1":["a","\u00e9"],"é":"\ud83d\ude00","k":"""#),
        // A JS string with a lone surrogate arrives as its UTF-8, with U+FFFD for it.
        signed("\"seq\":1,\"task_id\":\"t\u{FFFD}x\""),
        format!(
            "\u{FEFF} \t{}\n",
            signed(r#""seq":"0","task_id":"t","channel_id":"""#)
        ),
        signed(r#""seq":1,"task_id":"t","rtmp_urls":"","hls_urls":[],"stream_alias":"\/""#),
    ];
    for body in &bodies {
        let outcome = check(&case(body.as_str(), &[SECRET], None, 1700000000));
        assert_eq!(outcome, Ok(Outcome::Described("mix_start")), "{body}");
    }
    let sig = sign(SECRET, "1700000000", "n");
    let create = format!(
        r#"{{"event":"stream_create","appid":"4294967295","timestamp":1700000000,"nonce":"n","signature":"{sig}","room_id":"r","room_session_id":"000858012925204410401","stream_id":"s","stream_seq":1,"create_time":"","create_time_ms":1,"stream_attr":"{{\"cid\":3}}"}}"#
    );
    let outcome = check(&case(
        create,
        &["old", SECRET],
        Some("application/json"),
        1700000300,
    ));
    assert_eq!(outcome, Ok(Outcome::Described("stream_create")));
}

/// The check is not vacuous: words that are off by one unit, or that give a field another
/// mode, make it fail.
#[test]
fn the_check_catches_wrong_words() {
    let body = signed(r#""seq":1,"task_id":"task","mix_url":"u","z":1"#);
    let c = case(body, &[SECRET], None, 1700000000);
    let secrets = [SECRET];
    let mut d = Describer::default();
    let index = d.describe(&request(&c, &secrets)).unwrap();
    let words = d.words().clone();
    assert_eq!(
        compare(&c, index, &words),
        Ok(Outcome::Described("mix_start"))
    );
    // task_id is the schema's seventh field: its end one unit short, then its mode JSON.
    let w = 5 + 3 * 6;
    let mut shorter = words.clone();
    shorter[w + 2] -= 1;
    let e = compare(&c, index, &shorter).unwrap_err();
    assert!(e.contains(r#""task_id":"tas""#), "{e}");
    let mut json = words.clone();
    json[w] = 2;
    assert!(compare(&c, index, &json)
        .unwrap_err()
        .contains("JSON.parse"));
    // The extra's value as a number where it is text ("1").
    let mut number = words.clone();
    let x = number[4] as usize;
    number[x + 2] = 1;
    assert!(compare(&c, index, &number)
        .unwrap_err()
        .contains("the objects differ"));
    // A word past those written.
    assert!(compare(&c, index, &words[..words.len() - 1])
        .unwrap_err()
        .contains("past the"));
}

/// The span path's promise the other way: it never describes what the full path refuses.
#[test]
fn a_refused_body_is_never_described() {
    let c = case(
        signed(r#""seq":1,"task_id":"t""#),
        &[SECRET],
        None,
        1700000000,
    );
    let e = compare(
        &Case {
            now: 1800000000,
            ..c.clone()
        },
        6,
        &[0; 64],
    )
    .unwrap_err();
    assert!(e.contains("refuses: timestamp_out_of_window"), "{e}");
}

#[test]
fn inputs_are_re_signed_and_their_clock_follows_the_timestamp() {
    let fixture = std::fs::read(format!("{FIXTURES}/signed/mix_stop.json")).unwrap();
    let text = String::from_utf8(fixture).unwrap();
    let nonce = text
        .split(r#""nonce": ""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let changed = text.replace(&nonce, "another-nonce");
    let input =
        |flags: u8, now: u8, body: &str| [&[flags, now, 0, 0][..], body.as_bytes()].concat();
    // Re-signed, now at the timestamp: described.
    let c = prepare(&input(0x01, 0, &changed)).unwrap();
    assert_eq!(c.content_type, Some("application/json"));
    assert_eq!(check(&c), Ok(Outcome::Described("mix_stop")));
    // Kept as it is: the signature no longer matches.
    let kept = prepare(&input(0x41, 0, &changed)).unwrap();
    assert_eq!(kept.body, changed.as_bytes());
    assert_eq!(check(&kept), Ok(Outcome::Declined));
    // At the window's edge and one second past it.
    assert_eq!(
        check(&prepare(&input(0x01, 2, &changed)).unwrap()),
        Ok(Outcome::Described("mix_stop"))
    );
    assert_eq!(
        check(&prepare(&input(0x01, 4, &changed)).unwrap()),
        Ok(Outcome::Declined)
    );
    // A fixed clock far from the timestamp.
    assert_eq!(
        check(&prepare(&input(0x81, 2, &changed)).unwrap()),
        Ok(Outcome::Declined)
    );
    assert!(prepare(&[1, 2, 3]).is_none());
}
