//! The fixture manifest, shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One entry of tests/fixtures/index.json.
#[derive(Debug, Deserialize)]
pub struct Fixture {
    pub file: String,
    pub content_type: Option<String>,
    /// The event a good fixture parses to.
    pub event: Option<String>,
    /// The error code `parse` gives for a bad fixture.
    pub error: Option<String>,
    /// The secret (or secrets) that signed it; null for ZEGO's unsigned doc examples.
    #[serde(default)]
    pub secret: Option<serde_json::Value>,
    /// A time at which its timestamp is inside the window.
    pub now: Option<i64>,
    pub room_session_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Manifest {
    pub secret: String,
    pub fixtures: Vec<Fixture>,
}

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn manifest() -> Manifest {
    let text = std::fs::read_to_string(dir().join("index.json")).expect("read index.json");
    serde_json::from_str(&text).expect("parse index.json")
}

impl Fixture {
    pub fn body(&self) -> Vec<u8> {
        std::fs::read(dir().join(&self.file)).expect("read fixture")
    }

    pub fn secrets(&self) -> Vec<String> {
        match &self.secret {
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            Some(serde_json::Value::Array(a)) => {
                a.iter().map(|s| s.as_str().unwrap().to_owned()).collect()
            }
            _ => vec![],
        }
    }
}
