//! Runs the check over a corpus and counts what each input did: which took the span path
//! (by event) and which the full path; exits non-zero on a finding. From fuzz/:
//!
//!     cargo run --release --example outcomes -- [--json FILE] DIR_OR_FILE...
//!
//! With `--json FILE`, also writes each input the span path describes, as `receive` would
//! get it, with the object the Rust copy of the builders made, one JSON line each, for
//! js-agree.mjs to run through the real npm module.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use zego_callback_fuzz::{check, prepare, span_object, Outcome};

fn main() {
    let mut args = std::env::args_os().skip(1).peekable();
    let mut json = None;
    if args.peek().is_some_and(|a| a == "--json") {
        args.next();
        let path = args.next().expect("--json FILE");
        json = Some(std::io::BufWriter::new(
            std::fs::File::create(path).expect("a writable --json file"),
        ));
    }
    let mut files: Vec<PathBuf> = Vec::new();
    for arg in args {
        let path = PathBuf::from(arg);
        match std::fs::read_dir(&path) {
            Ok(dir) => files.extend(dir.filter_map(|e| Some(e.ok()?.path()))),
            Err(_) => files.push(path),
        }
    }
    files.sort();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut findings = 0;
    for file in &files {
        // A corpus the fuzzer is running on loses files as it reduces them.
        let Ok(data) = std::fs::read(file) else {
            continue;
        };
        let case = prepare(&data);
        let key = match case.as_ref().map(check) {
            None => "too short",
            Some(Ok(Outcome::Declined)) => "full path",
            Some(Ok(Outcome::Described(event))) => event,
            Some(Err(e)) => {
                eprintln!("{}: {e}", file.display());
                findings += 1;
                "finding"
            }
        };
        *counts.entry(key).or_default() += 1;
        if let (Some(out), Some(case)) = (json.as_mut(), case) {
            if let Some(Ok(object)) = span_object(&case) {
                let line = serde_json::json!({
                    "file": file.display().to_string(),
                    "body": case.body.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                    "secrets": case.secrets,
                    "contentType": case.content_type,
                    "now": case.now,
                    "tolerance": case.tolerance,
                    "maxBody": case.max_body,
                    "object": object.to_string(),
                });
                writeln!(out, "{line}").expect("written");
            }
        }
    }
    let spans: usize = counts
        .iter()
        .filter(|(k, _)| !matches!(**k, "too short" | "full path" | "finding"))
        .map(|(_, n)| n)
        .sum();
    println!("{} inputs: {spans} by the span path, compared", files.len());
    for (key, n) in &counts {
        println!("  {key}: {n}");
    }
    if findings > 0 {
        std::process::exit(1);
    }
}
