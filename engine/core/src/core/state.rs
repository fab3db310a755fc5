//! The core's whole state as bytes (an rkyv archive) and back: what a
//! snapshot file holds (the runtime's `snapshot` module writes and finds
//! the files). Pure encoding, no I/O.

use super::Core;

impl Core {
    /// The state as bytes (an rkyv archive).
    pub fn to_snapshot(&self) -> Vec<u8> {
        rkyv::to_bytes::<rkyv::rancor::Error>(self)
            .map(|b| b.to_vec())
            .unwrap_or_default()
    }

    /// A core from snapshot bytes, validated by rkyv's checked access.
    pub fn from_snapshot(bytes: &[u8]) -> Result<Core, String> {
        let mut aligned = rkyv::util::AlignedVec::<16>::with_capacity(bytes.len());
        aligned.extend_from_slice(bytes);
        rkyv::from_bytes::<Core, rkyv::rancor::Error>(&aligned).map_err(|e| e.to_string())
    }
}
