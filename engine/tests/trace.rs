//! The readable trace (`engine::trace`), driven by a core event by event:
//! names instead of indices, decimals instead of raw fixed point, refusals
//! in words, an operator command at the core's time (it has no exchange
//! time), entries not taken counted per second, and the filters.

use autobot_engine::core::CoreStats;
use autobot_engine::event::{ControlMode, OperatorAction, OperatorCommand};
use autobot_engine::trace::{Filter, Format, Kind, Names, Tracer, utc};
use autobot_engine::types::Side;

mod common;
use common::{Harness, books, risk_config};

fn names() -> Names {
    Names {
        symbols: vec!["BTCUSDT".into(), "ETHUSDT".into()],
        strategies: vec!["trend".into()],
        models: vec!["btc_1m_logreg".into()],
    }
}

/// Feeds through `h`'s last event into `t`, returning the text.
fn trace(t: &mut Tracer, h: &Harness, outs: &[autobot_engine::event::OutputEvent]) -> String {
    let mut s = String::new();
    t.input(&h.last, &h.core, outs, &mut s);
    s
}

#[test]
fn a_refused_mode_change_reads_in_words_at_the_core_time() {
    let mut h = Harness::new(&risk_config());
    let mut t = Tracer::new(
        names(),
        Filter::default(),
        Format::Text,
        &CoreStats::default(),
    );
    books(&mut h, "9999.9", "10000.1");
    let at = h.core.now().0;
    // Emergency to full-auto in one step is not allowed.
    h.op(0, OperatorCommand::new(OperatorAction::Kill, 0));
    let outs = h.op(
        0,
        OperatorCommand::new(OperatorAction::SetMode, ControlMode::FullAuto as u64),
    );
    let text = trace(&mut t, &h, &outs);
    assert!(
        text.starts_with(&format!(
            "#{} {} (core) BTCUSDT operator mode full-auto\n",
            h.seq - 1,
            utc(at)
        )),
        "{text}"
    );
    assert!(
        text.contains(
            "alert ModeRefused: mode change refused: the move to full-auto is not allowed"
        ),
        "{text}"
    );
    assert!(!text.contains("1970"), "{text}");
}

#[test]
fn orders_and_audits_are_named_and_decimal_and_filters_apply() {
    let mut h = Harness::new(&risk_config());
    books(&mut h, "9999.9", "10000.1");
    let outs = h.market_order(1, Side::Buy, "0.5");
    let mut all = Tracer::new(
        names(),
        Filter::default(),
        Format::Text,
        &CoreStats::default(),
    );
    let text = trace(&mut all, &h, &outs);
    assert!(
        text.contains("ETHUSDT (Operator) approved by AllPassed (level 0)"),
        "{text}"
    );
    assert!(
        text.contains("new #") && text.contains("Buy Market 0.5 ETHUSDT at 2500.01"),
        "{text}"
    );
    // No raw fixed point (×10⁻⁸) anywhere: no run of 10 digits.
    assert!(
        !text
            .as_bytes()
            .windows(10)
            .any(|w| w.iter().all(u8::is_ascii_digit)),
        "{text}"
    );
    // Another symbol: nothing.
    let mut btc = Tracer::new(
        names(),
        Filter {
            symbol: Some("BTCUSDT".into()),
            ..Filter::default()
        },
        Format::Text,
        &CoreStats::default(),
    );
    assert_eq!(trace(&mut btc, &h, &outs), "");
    // Orders only, as JSON lines with the names and the decimal data.
    let mut orders = Tracer::new(
        names(),
        Filter {
            kinds: vec![Kind::Order],
            ..Filter::default()
        },
        Format::Jsonl,
        &CoreStats::default(),
    );
    let jsonl = trace(&mut orders, &h, &outs);
    let lines: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{jsonl}");
    assert_eq!(lines[0]["kind"], "order");
    assert_eq!(lines[0]["symbol"], "ETHUSDT");
    assert_eq!(lines[0]["clock"], "core");
    assert_eq!(lines[0]["data"]["NewOrder"]["qty"], "0.5");
}
