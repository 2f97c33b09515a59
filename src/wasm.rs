//! The npm module's bindings.
