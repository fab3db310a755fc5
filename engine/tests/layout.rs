//! Layout of the events: sizes are part of the ring and journal contract.

use autobot_engine::event::{
    ArchiveBuf, InputBody, InputEvent, MAX_ARCHIVED_LEN, OutputBody, OutputEvent,
};
use std::mem::{align_of, size_of};

#[test]
fn input_event_is_two_cache_lines() {
    assert_eq!(size_of::<InputEvent>(), 128);
    assert_eq!(align_of::<InputEvent>(), 64);
    assert_eq!(size_of::<autobot_engine::event::EventHeader>(), 40);
    assert_eq!(size_of::<InputBody>(), 88);
}

#[test]
fn output_event_is_one_cache_line() {
    assert_eq!(size_of::<OutputEvent>(), 64);
    assert_eq!(align_of::<OutputEvent>(), 64);
    assert!(size_of::<OutputBody>() <= 56);
}

#[test]
fn events_are_copy() {
    fn is_copy<T: Copy>() {}
    is_copy::<InputEvent>();
    is_copy::<OutputEvent>();
}

#[test]
fn archived_events_fit_the_archive_buffer() {
    let mut buf = ArchiveBuf::default();
    assert!(buf.archive(&InputEvent::default()).len() <= MAX_ARCHIVED_LEN);
    assert!(buf.archive(&OutputEvent::default()).len() <= MAX_ARCHIVED_LEN);
}
