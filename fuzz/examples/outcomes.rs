//! Runs the check over a corpus and counts what each input did: which took the span path
//! (by event) and which the full path. `cargo run --release --example outcomes -- DIR...`
//! (from fuzz/); exits non-zero on a finding.

use std::collections::BTreeMap;
use std::path::PathBuf;

use zego_callback_fuzz::{check, prepare, Outcome};

fn main() {
    let mut files: Vec<PathBuf> = Vec::new();
    for arg in std::env::args_os().skip(1) {
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
        let data = std::fs::read(file).expect("readable input");
        let key = match prepare(&data).map(|case| check(&case)) {
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
