//! No input, bytes or string, makes the parser or the verifier panic.

mod common;

use proptest::prelude::*;
use zego_callback::{parse, verify_signature, Receiver};

const CONTENT_TYPES: [Option<&str>; 5] = [
    None,
    Some("application/json"),
    Some("application/x-www-form-urlencoded"),
    Some("text/plain"),
    Some("application/xml"),
];

fn check(body: &[u8], ct: Option<&str>) {
    let _ = parse(body, ct);
    let r = Receiver::with_secrets(["s", "t"]).unwrap();
    let _ = r.receive(body, ct, 1_687_981_272);
}

/// Bodies near real ones: a fixture with a few bytes replaced, inserted or removed.
fn mutated_fixture() -> impl Strategy<Value = (Vec<u8>, usize)> {
    let bodies: Vec<(Vec<u8>, usize)> = common::manifest()
        .fixtures
        .iter()
        .enumerate()
        .map(|(i, f)| (f.body(), i))
        .collect();
    (
        0..bodies.len(),
        prop::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..8),
    )
        .prop_map(move |(i, edits)| {
            let (mut body, index) = bodies[i].clone();
            for (at, byte, op) in edits {
                let at = if body.is_empty() { 0 } else { at % body.len() };
                match op {
                    0 if !body.is_empty() => body[at] = byte,
                    1 => body.insert(at, byte),
                    _ if !body.is_empty() => {
                        body.remove(at);
                    }
                    _ => {}
                }
            }
            (body, index)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..512), ct in 0usize..5) {
        check(&body, CONTENT_TYPES[ct]);
    }

    #[test]
    fn arbitrary_strings(body in "\\PC{0,300}", ct in 0usize..5) {
        check(body.as_bytes(), CONTENT_TYPES[ct]);
    }

    #[test]
    fn json_shaped_strings(body in r#"\{("[a-z_]{1,12}":("[^"\\]{0,8}"|-?[0-9]{1,22}|\[\]|true|null|\{\}),?){0,12}\}"#) {
        check(body.as_bytes(), None);
    }

    #[test]
    fn form_shaped_strings(body in "([a-z_]{1,12}=[%+0-9A-Za-z\\[\\]\"]{0,12}&?){0,12}") {
        check(body.as_bytes(), Some("application/x-www-form-urlencoded"));
    }

    #[test]
    fn mutated_fixtures((body, i) in mutated_fixture(), ct in 0usize..5) {
        let _ = i;
        check(&body, CONTENT_TYPES[ct]);
    }

    #[test]
    fn verifier_with_arbitrary_inputs(secret in ".{0,40}", ts in ".{0,20}", nonce in ".{0,20}", sig in ".{0,60}") {
        let _ = verify_signature(&[secret.as_str()], &ts, &nonce, &sig);
    }
}
