//! The event model: fixed-size input events (everything that changes core
//! state) and output events (everything the core decides).

/// Declares a wire type: an event, or a part of one, that is journaled
/// (rkyv, with an archived form tests can compare) and exported (serde),
/// plain data that copies (with a default unless `no_default:`). One list, so every
/// wire type derives the same; the item's own attributes (docs, `repr`,
/// `serde`) follow it.
macro_rules! wire {
    // The few wire types with no neutral value to default to (every
    // refusal has a reason).
    (no_default: $($item:tt)*) => {
        #[derive(
            Clone,
            Copy,
            Debug,
            PartialEq,
            Eq,
            rkyv::Archive,
            rkyv::Serialize,
            rkyv::Deserialize,
            serde::Serialize,
        )]
        #[rkyv(derive(Debug, PartialEq))]
        $($item)*
    };
    ($($item:tt)*) => {
        #[derive(
            Clone,
            Copy,
            Debug,
            PartialEq,
            Eq,
            Default,
            rkyv::Archive,
            rkyv::Serialize,
            rkyv::Deserialize,
            serde::Serialize,
        )]
        #[rkyv(derive(Debug, PartialEq))]
        $($item)*
    };
}
pub(crate) use wire;

mod advice;
mod decision;
mod input;
mod output;
mod report;

pub use advice::*;
pub use decision::*;
pub use input::*;
pub use output::*;
pub use report::*;

use rkyv::rancor::Failure;
use rkyv::ser::allocator::SubAllocator;
use rkyv::ser::writer::Buffer;
use rkyv::util::Align;
use std::mem::MaybeUninit;

/// Upper bound of the archived size of any event, checked by the layout test.
pub const MAX_ARCHIVED_LEN: usize = 192;

/// A reusable, aligned buffer for archiving one event without allocating.
#[derive(Debug)]
pub struct ArchiveBuf {
    bytes: Align<[MaybeUninit<u8>; MAX_ARCHIVED_LEN]>,
}

impl Default for ArchiveBuf {
    fn default() -> Self {
        ArchiveBuf {
            bytes: Align([MaybeUninit::uninit(); MAX_ARCHIVED_LEN]),
        }
    }
}

impl ArchiveBuf {
    /// Archives `value` (an event) and returns its bytes. Events hold no
    /// pointers, so rkyv needs no scratch space and no heap: the writer is
    /// this fixed buffer and the allocator an empty one. rkyv writes padding
    /// as zeros, so equal events give equal bytes (the digest relies on it).
    pub fn archive<T>(&mut self, value: &T) -> &[u8]
    where
        T: for<'a> rkyv::Serialize<
                rkyv::api::low::LowSerializer<Buffer<'a>, SubAllocator<'a>, Failure>,
            >,
    {
        let mut no_scratch: [MaybeUninit<u8>; 0] = [];
        let buffer = Buffer::from(&mut *self.bytes);
        match rkyv::api::low::to_bytes_in_with_alloc::<_, _, Failure>(
            value,
            buffer,
            SubAllocator::new(&mut no_scratch),
        ) {
            Ok(written) => {
                let len = written.len();
                // Re-borrow through the buffer we own; `written` borrowed it.
                let bytes: &[MaybeUninit<u8>] = &self.bytes[..len];
                // SAFETY: rkyv initialised the first `len` bytes it reported
                // as written (padding included, as zeros); `MaybeUninit<u8>`
                // has the layout of `u8`.
                #[allow(unsafe_code)]
                unsafe {
                    std::slice::from_raw_parts(bytes.as_ptr().cast::<u8>(), len)
                }
            }
            // Only a buffer overflow can fail; MAX_ARCHIVED_LEN covers every
            // event type (layout test), so this is a programming error.
            Err(_) => panic!("event archive exceeds {MAX_ARCHIVED_LEN} bytes"),
        }
    }
}

/// Reads an archived input event back (validated by rkyv's checked access).
/// Journal payloads are 8-byte aligned in their mapping, which is all the
/// archived event needs, so they decode in place; other bytes are copied to
/// an aligned buffer first.
///
/// Inlined: the replay loops call it per event, and across crates its
/// result otherwise comes back through memory (store-forwarding stalls).
#[inline(always)]
pub fn input_from_bytes(bytes: &[u8]) -> Result<InputEvent, EventDecodeError> {
    let fail = |e: rkyv::rancor::Error| EventDecodeError(e.to_string());
    let decode = |b: &[u8]| {
        let archived = rkyv::access::<ArchivedInputEvent, rkyv::rancor::Error>(b).map_err(fail)?;
        rkyv::deserialize::<InputEvent, rkyv::rancor::Error>(archived).map_err(fail)
    };
    if (bytes.as_ptr() as usize).is_multiple_of(std::mem::align_of::<ArchivedInputEvent>()) {
        return decode(bytes);
    }
    let mut aligned = rkyv::util::AlignedVec::<16>::with_capacity(bytes.len());
    aligned.extend_from_slice(bytes);
    decode(&aligned)
}

/// [`input_from_bytes`] into `out`, for loops that decode every event of
/// a journal into one reused event: the value is stored where the
/// consumer reads it, not moved out through a `Result` (192 bytes with the
/// error's `String`) and again into the loop's variable, moves a replay
/// profile put at half the loop's own time. The checked access runs with
/// rkyv's zero-sized `Failure`; only an event that fails it is checked
/// again for the reason, so the message is [`input_from_bytes`]'s. `out`
/// is left as it was on an error.
#[inline(always)]
pub fn input_into(bytes: &[u8], out: &mut InputEvent) -> Result<(), EventDecodeError> {
    let aligned =
        (bytes.as_ptr() as usize).is_multiple_of(std::mem::align_of::<ArchivedInputEvent>());
    if aligned
        && let Ok(archived) = rkyv::access::<ArchivedInputEvent, Failure>(bytes)
        && let Ok(ev) = rkyv::deserialize::<InputEvent, Failure>(archived)
    {
        *out = ev;
        return Ok(());
    }
    *out = input_from_bytes(bytes)?;
    Ok(())
}

/// An archived event failed validation.
#[derive(Debug, thiserror::Error)]
#[error("invalid archived event: {0}")]
pub struct EventDecodeError(pub String);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{MonoNanos, Price, Qty, SymbolId, UnixNanos};

    fn ticker() -> InputEvent {
        InputEvent::new(
            Source::MarketData,
            SymbolId(3),
            MonoNanos(17),
            UnixNanos(1_700_000_000_000_000_000),
            InputBody::BookTicker(BookTicker {
                update_id: 42,
                bid_price: Price::from_raw(6_000_000_000_000),
                bid_qty: Qty::from_raw(150_000_000),
                ask_price: Price::from_raw(6_000_010_000_000),
                ask_qty: Qty::from_raw(20_000_000),
            }),
        )
    }

    #[test]
    fn decoding_in_place_gives_the_event_input_from_bytes_gives() {
        let mut buf = ArchiveBuf::default();
        let bytes = buf.archive(&ticker()).to_vec();
        let mut aligned = rkyv::util::AlignedVec::<16>::new();
        aligned.extend_from_slice(&bytes);
        // One aligned, one not: the second goes through the copy.
        let mut shifted = vec![0u8; bytes.len() + 1];
        shifted[1..].copy_from_slice(&bytes);
        for b in [&aligned[..], &shifted[1..]] {
            let mut out = InputEvent::default();
            input_into(b, &mut out).unwrap();
            assert_eq!(out, input_from_bytes(b).unwrap());
            assert_eq!(out, ticker());
        }
    }

    #[test]
    fn a_refused_event_keeps_the_slot_and_gets_the_checked_reason() {
        let mut buf = ArchiveBuf::default();
        let mut bytes = rkyv::util::AlignedVec::<16>::new();
        bytes.extend_from_slice(buf.archive(&ticker()));
        // The body's tag is the byte after the header; no kind is 0xEE.
        let header = std::mem::size_of::<ArchivedEventHeader>();
        bytes[header] = 0xEE;
        let before = InputEvent::default();
        let mut out = before;
        let err = input_into(&bytes, &mut out).unwrap_err();
        assert_eq!(out, before);
        assert_eq!(err.0, input_from_bytes(&bytes).unwrap_err().0);
        assert!(!err.0.is_empty());
    }
}
