//! The running digest of every output the core emits.
//!
//! `digest_n = xxh3_64(archived bytes of output_n, seed = digest_{n-1})`.
//! XXH3 has a fixed, published specification (its output does not depend on
//! the CPU or the crate version), and rkyv archives with zeroed padding, so the
//! same outputs give the same digest on every host. A replay that diverges at
//! any output diverges in every digest after it.

use crate::event::{ArchiveBuf, OutputEvent};

/// Seed of an empty digest ("autobot" in ASCII).
pub const DIGEST_SEED: u64 = 0x6175_746f_626f_7400;

/// Chained hash of the outputs so far.
#[derive(Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct OutputDigest {
    value: u64,
    count: u64,
    /// Scratch space, not state.
    #[rkyv(with = rkyv::with::Skip)]
    buf: ArchiveBuf,
}

impl Default for OutputDigest {
    fn default() -> Self {
        OutputDigest {
            value: DIGEST_SEED,
            count: 0,
            buf: ArchiveBuf::default(),
        }
    }
}

impl OutputDigest {
    /// Folds one output in.
    #[inline]
    pub fn update(&mut self, out: &OutputEvent) {
        let bytes = self.buf.archive(out);
        self.value = xxhash_rust::xxh3::xxh3_64_with_seed(bytes, self.value);
        self.count += 1;
    }

    /// The digest value.
    pub fn value(&self) -> u64 {
        self.value
    }

    /// Outputs folded in.
    pub fn count(&self) -> u64 {
        self.count
    }
}
