//! The core's output-digest checkpoints: meta records of kind
//! [`KIND_DIGEST`] whose payload is a fixed 32-byte encoding.
//!
//! The core writes a checkpoint after every input that produced an output,
//! every `checkpoint_every` inputs, and at shutdown. Its digest only changes
//! when an output is emitted, so while checkpoints are *dense* (none missing
//! since the previous one) the recorded digest after **every** input is
//! known: that of the latest checkpoint at or before it. That is what lets
//! `replay --verify` name the exact first divergent input. The first
//! checkpoint of a run that resumed from an earlier one is not dense: the
//! inputs the crashed run processed after its last journaled checkpoint have
//! no record of their outputs.

/// Meta-record kind of an output-digest checkpoint.
pub const KIND_DIGEST: u16 = 1;

/// Length of an encoded checkpoint.
const CHECKPOINT_LEN: usize = 32;

/// The core's output digest after processing input `last_seq`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checkpoint {
    /// Last input processed.
    pub last_seq: u64,
    /// Running output digest at that point.
    pub digest: u64,
    /// Outputs emitted so far.
    pub outputs: u64,
    /// Every input since the previous checkpoint that emitted an output has
    /// a checkpoint of its own (so the digest between them is known).
    pub dense: bool,
}

impl Checkpoint {
    /// Fixed little-endian encoding: last_seq, digest, outputs, flags (bit 0: dense).
    pub fn encode(&self) -> [u8; CHECKPOINT_LEN] {
        let mut b = [0u8; CHECKPOINT_LEN];
        b[0..8].copy_from_slice(&self.last_seq.to_le_bytes());
        b[8..16].copy_from_slice(&self.digest.to_le_bytes());
        b[16..24].copy_from_slice(&self.outputs.to_le_bytes());
        b[24..32].copy_from_slice(&u64::from(self.dense).to_le_bytes());
        b
    }

    /// The checkpoint a journal record holds, if it is one.
    pub fn from_record(rec: &crate::Record<'_>) -> Option<Checkpoint> {
        if !rec.meta.is_meta() || rec.meta.kind != KIND_DIGEST {
            return None;
        }
        Checkpoint::decode(rec.payload)
    }

    /// Decodes a checkpoint payload (`None` if malformed, unknown flags included).
    pub fn decode(b: &[u8]) -> Option<Checkpoint> {
        let word = |i: usize| -> Option<u64> {
            Some(u64::from_le_bytes(b.get(i..i + 8)?.try_into().ok()?))
        };
        (b.len() == CHECKPOINT_LEN).then_some(())?;
        let flags = word(24)?;
        (flags <= 1).then_some(())?;
        Some(Checkpoint {
            last_seq: word(0)?,
            digest: word(8)?,
            outputs: word(16)?,
            dense: flags == 1,
        })
    }
}
