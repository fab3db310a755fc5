//! The dashboard's decision log: a read model of the core's veto audits,
//! strategy signals (with the advisor's records of what it did to them),
//! orders and cancels, fed by the output ring's tap
//! (`runtime::notices`, the records queue), and of the fills the gateways
//! published (`runtime::notices::Fills`), drained on the endpoint's
//! thread. It keeps the last [`KEEP`] of each, in words and in human units
//! (`core::explain`), the vetoes counted by rule since the run began, and
//! round trips rebuilt from the fills.
//!
//! # Attribution
//! A fill is attributed by its client id: the veto-chain audit that sent
//! the order names its origin (operator, flatten, stop-loss, …), and a
//! strategy's order is the strategy whose signal on that symbol came last
//! before it. The round trips here are for reading (floats, per symbol,
//! from the fills seen since the dashboard started); the core's own
//! accounting, exact, is in the Overview and the run's summary.
//!
//! The tap never waits for it: when the endpoint is behind, records are
//! dropped there and counted, and the view says how many.

use autobot_engine::trace::{Names, output_text};
use autobot_engine::types::UnixNanos;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use autobot_engine::core::explain;
use autobot_engine::event::{InputBody, InputEvent, Origin};
use autobot_engine::event::{OutputBody, OutputEvent, Rule, Verdict};
use autobot_engine::runtime::notices::{Fills, Notices};
use autobot_engine::types::Side;

/// Rows of each kind kept.
pub const KEEP: usize = 200;
/// Records taken per turn of the endpoint's loop (the rest wait for the next).
const PER_TICK: usize = 20_000;
/// How long a fill waits for its order's audit (the tap forwards within
/// a millisecond or two; this is for a loaded machine).
const FILL_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// One line of the log.
#[derive(Clone, serde::Serialize)]
struct Row {
    /// Event time of its cause (the core's clock), Unix ms; 0: not known.
    t_ms: u64,
    /// The input that caused it.
    seq: u64,
    symbol: String,
    /// `approved`, `vetoed`, … for audits; the stance for signals; `new`
    /// or `cancel` for orders.
    what: String,
    /// The rule (audits) or strategy (signals), when there is one.
    by: String,
    text: String,
}

/// A fill as the table shows it.
#[derive(Clone, serde::Serialize)]
struct FillRow {
    /// Exchange time, Unix ms.
    t_ms: u64,
    symbol: String,
    side: &'static str,
    qty: String,
    price: String,
    fee: String,
    liquidity: String,
    order: u64,
    /// The strategy, or the origin of a non-strategy order.
    by: String,
}

/// A round trip rebuilt from fills: flat → open → flat.
#[derive(Clone, serde::Serialize)]
struct TripRow {
    opened_ms: u64,
    closed_ms: u64,
    symbol: String,
    side: &'static str,
    /// Largest absolute size held.
    size: f64,
    /// Realized PnL before fees, fees, and after fees (USDT).
    gross: f64,
    fees: f64,
    net: f64,
    by: String,
}

/// One symbol's position as the fills build it.
#[derive(Clone, Default)]
struct Leg {
    qty: f64,
    /// Average entry price of `qty`.
    entry: f64,
    opened_ms: u64,
    size: f64,
    gross: f64,
    fees: f64,
    by: String,
}

/// The read model.
pub(super) struct Decisions {
    rx: Option<Notices>,
    fill_rx: Option<Fills>,
    fills: VecDeque<FillRow>,
    trips: VecDeque<TripRow>,
    legs: Vec<Leg>,
    /// Client id → who sent it (the last [`KEEP`]` × 10` orders).
    sent_by: VecDeque<(u64, String)>,
    /// Per symbol: the strategy of the last signal.
    last_signal: Vec<String>,
    /// Fills taken from their queue but not yet in the tables, oldest
    /// first, with when they were taken: a fill can come before the audit
    /// of its order (two queues, two threads), so it waits for it a little.
    waiting: VecDeque<(InputEvent, std::time::Instant)>,
    /// Symbols and strategy instances by number.
    names: Names,
    audits: VecDeque<Row>,
    signals: VecDeque<Row>,
    orders: VecDeque<Row>,
    /// Vetoes by rule (index: the rule's number).
    vetoes: [u64; Rule::ALL.len()],
}

#[derive(serde::Serialize)]
struct View<'a> {
    vetoes_by_rule: Vec<(String, u8, u64)>,
    audits: &'a VecDeque<Row>,
    signals: &'a VecDeque<Row>,
    orders: &'a VecDeque<Row>,
    fills: &'a VecDeque<FillRow>,
    trips: &'a VecDeque<TripRow>,
    /// Records the tap dropped (the endpoint was behind).
    dropped: u64,
    /// Fill copies the gateways dropped (the endpoint was behind).
    fills_dropped: u64,
}

fn push(q: &mut VecDeque<Row>, row: Row) {
    if q.len() == KEEP {
        q.pop_front();
    }
    q.push_back(row);
}

impl Decisions {
    pub(super) fn new(
        (rx, fill_rx): (Option<Notices>, Option<Fills>),
        symbols: Vec<String>,
        (strategies, models): (Vec<String>, Vec<String>),
    ) -> Self {
        Decisions {
            rx,
            fill_rx,
            fills: VecDeque::with_capacity(KEEP),
            trips: VecDeque::with_capacity(KEEP),
            legs: vec![Leg::default(); symbols.len()],
            sent_by: VecDeque::new(),
            last_signal: vec![String::new(); symbols.len()],
            waiting: VecDeque::new(),
            names: Names {
                symbols,
                strategies,
                models,
            },
            audits: VecDeque::with_capacity(KEEP),
            signals: VecDeque::with_capacity(KEEP),
            orders: VecDeque::with_capacity(KEEP),
            vetoes: [0; Rule::ALL.len()],
        }
    }

    fn symbol(&self, id: u16) -> String {
        self.names
            .symbols
            .get(usize::from(id))
            .cloned()
            .unwrap_or_else(|| format!("#{id}"))
    }

    /// Takes what the tap queued (called on every turn of the loop).
    pub(super) fn drain(&mut self) {
        if let Some(rx) = self.rx.take() {
            for _ in 0..PER_TICK {
                match rx.rx.try_recv() {
                    Ok(ev) => self.take(&ev.out, ev.at),
                    Err(_) => break,
                }
            }
            self.rx = Some(rx);
        }
        if let Some(rx) = self.fill_rx.take() {
            for _ in 0..PER_TICK {
                match rx.rx.try_recv() {
                    Ok(ev) => self.waiting.push_back((ev, std::time::Instant::now())),
                    Err(_) => break,
                }
            }
            self.fill_rx = Some(rx);
        }
        // In order: a fill whose order is not known yet holds the ones
        // after it (the round trips need them in order), for at most
        // `FILL_WAIT`; then it goes in unattributed.
        while let Some((ev, taken)) = self.waiting.front() {
            let known = match ev.body {
                InputBody::OrderUpdate(u) => self.sent_by.iter().any(|(i, _)| *i == u.client_id.0),
                _ => true,
            };
            if !known && taken.elapsed() < FILL_WAIT {
                break;
            }
            let ev = *ev;
            self.waiting.pop_front();
            self.fill(&ev);
        }
    }

    fn who(&self, id: u64) -> String {
        self.sent_by
            .iter()
            .rev()
            .find(|(i, _)| *i == id)
            .map_or_else(|| "?".into(), |(_, by)| by.clone())
    }

    /// A fill: the table, and the symbol's round trip.
    fn fill(&mut self, ev: &InputEvent) {
        let InputBody::OrderUpdate(u) = ev.body else {
            return;
        };
        let sym = usize::from(ev.header.symbol.0);
        let t_ms = ev.header.exchange.0 / 1_000_000;
        let by = self.who(u.client_id.0);
        let sign = if u.side == Side::Buy { 1.0 } else { -1.0 };
        let row = FillRow {
            t_ms,
            symbol: self.symbol(ev.header.symbol.0),
            side: if u.side == Side::Buy { "buy" } else { "sell" },
            qty: u.last_qty.to_string(),
            price: u.last_price.to_string(),
            fee: u.fee.to_string(),
            liquidity: format!("{:?}", u.liquidity).to_lowercase(),
            order: u.client_id.0,
            by: by.clone(),
        };
        if self.fills.len() == KEEP {
            self.fills.pop_front();
        }
        self.fills.push_back(row);
        let symbol = self.symbol(ev.header.symbol.0);
        let Some(leg) = self.legs.get_mut(sym) else {
            return;
        };
        let (q, p) = (sign * u.last_qty.to_f64(), u.last_price.to_f64());
        if leg.qty == 0.0 {
            *leg = Leg {
                opened_ms: t_ms,
                by: by.clone(),
                ..Leg::default()
            };
        }
        leg.fees += u.fee.to_f64();
        if leg.qty == 0.0 || leg.qty.signum() == q.signum() {
            let total = leg.qty + q;
            leg.entry = (leg.entry * leg.qty + p * q) / total;
            leg.qty = total;
        } else {
            let closed = q.abs().min(leg.qty.abs());
            leg.gross += closed * (p - leg.entry) * leg.qty.signum();
            leg.qty += q;
            if leg.qty.abs() < 1e-12 {
                leg.qty = 0.0;
            } else if leg.qty.signum() == q.signum() {
                // Turned around: the rest opens at this price.
                leg.entry = p;
            }
        }
        leg.size = leg.size.max(leg.qty.abs());
        if leg.qty == 0.0 {
            let trip = TripRow {
                opened_ms: leg.opened_ms,
                closed_ms: t_ms,
                symbol,
                side: if sign < 0.0 { "long" } else { "short" },
                size: leg.size,
                gross: leg.gross,
                fees: leg.fees,
                net: leg.gross - leg.fees,
                by: leg.by.clone(),
            };
            if self.trips.len() == KEEP {
                self.trips.pop_front();
            }
            self.trips.push_back(trip);
        }
    }

    fn take(&mut self, ev: &OutputEvent, at: UnixNanos) {
        let t_ms = at.0 / 1_000_000;
        let seq = ev.cause.0;
        match ev.body {
            OutputBody::Audit(a) => {
                if a.verdict == Verdict::Vetoed
                    && let Some(n) = self.vetoes.get_mut(a.rule as usize)
                {
                    *n += 1;
                }
                let symbol = self.symbol(a.symbol.0);
                if matches!(a.verdict, Verdict::Approved) {
                    let by = match a.origin {
                        Origin::Strategy => self
                            .last_signal
                            .get(usize::from(a.symbol.0))
                            .cloned()
                            .filter(|s| !s.is_empty())
                            .unwrap_or_else(|| "strategy".into()),
                        o => format!("{o:?}").to_lowercase(),
                    };
                    if self.sent_by.len() == KEEP * 10 {
                        self.sent_by.pop_front();
                    }
                    self.sent_by.push_back((a.id.0, by));
                }
                let row = Row {
                    t_ms,
                    seq,
                    text: explain::audit_line(&a, &symbol),
                    symbol,
                    what: format!("{:?}", a.verdict).to_lowercase(),
                    by: format!("{:?}", a.rule),
                };
                push(&mut self.audits, row);
            }
            OutputBody::Signal(s) => {
                let by = self
                    .names
                    .strategies
                    .get(usize::from(s.strategy))
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", s.strategy));
                if let Some(last) = self.last_signal.get_mut(usize::from(s.symbol.0)) {
                    last.clone_from(&by);
                }
                let row = Row {
                    t_ms,
                    seq,
                    symbol: self.symbol(s.symbol.0),
                    what: format!("{:?}", s.stance).to_lowercase(),
                    text: output_text(&ev.body, &self.names),
                    by,
                };
                push(&mut self.signals, row);
            }
            // What the advisor did to an entry: beside the signals.
            OutputBody::Advice(a) => {
                let row = Row {
                    t_ms,
                    seq,
                    symbol: self.symbol(a.symbol.0),
                    what: format!("advisor: {}", a.verdict.name()),
                    text: output_text(&ev.body, &self.names),
                    by: self
                        .names
                        .strategies
                        .get(usize::from(a.strategy))
                        .cloned()
                        .unwrap_or_else(|| format!("#{}", a.strategy)),
                };
                push(&mut self.signals, row);
            }
            OutputBody::NewOrder(o) => {
                let row = Row {
                    t_ms,
                    seq,
                    symbol: self.symbol(o.symbol.0),
                    what: "new".into(),
                    by: String::new(),
                    text: output_text(&ev.body, &self.names),
                };
                push(&mut self.orders, row);
            }
            OutputBody::Cancel(c) => {
                let row = Row {
                    t_ms,
                    seq,
                    symbol: self.symbol(c.symbol.0),
                    what: "cancel".into(),
                    by: String::new(),
                    text: output_text(&ev.body, &self.names),
                };
                push(&mut self.orders, row);
            }
            _ => {}
        }
    }

    /// The log as JSON for `GET /decisions`.
    pub(super) fn json(&self) -> String {
        let mut by_rule: Vec<(String, u8, u64)> = Rule::ALL
            .iter()
            .filter_map(|r| {
                let n = self.vetoes.get(*r as usize).copied().unwrap_or(0);
                (n > 0).then(|| (format!("{r:?}"), r.level(), n))
            })
            .collect();
        by_rule.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        let view = View {
            vetoes_by_rule: by_rule,
            audits: &self.audits,
            signals: &self.signals,
            orders: &self.orders,
            fills: &self.fills,
            trips: &self.trips,
            dropped: self
                .rx
                .as_ref()
                .map_or(0, |r| r.dropped.load(Ordering::Relaxed)),
            fills_dropped: self
                .fill_rx
                .as_ref()
                .map_or(0, |r| r.dropped.load(Ordering::Relaxed)),
        };
        serde_json::to_string(&view).unwrap_or_else(|_| "{}".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use autobot_engine::event::{Advice, AdviceVerdict, Stance};
    use autobot_engine::types::{MonoNanos, Qty, Seq, SymbolId};

    #[test]
    fn the_advisors_records_are_shown_beside_the_signals() {
        let mut d = Decisions::new(
            (None, None),
            vec!["BTCUSDT".into()],
            (vec!["trend".into()], vec!["btc_1m_logreg".into()]),
        );
        let advice = Advice {
            qty: Qty::parse("0.010").unwrap(),
            score: 310_000,
            confidence: 380_000,
            strategy_confidence: 520_000,
            fused: 322_400,
            factor: 620_000,
            age: 2,
            symbol: SymbolId(0),
            strategy: 0,
            model: 0,
            verdict: AdviceVerdict::Cut,
            stance: Stance::Long,
        };
        let ev = OutputEvent {
            cause: Seq(7),
            body: OutputBody::Advice(advice),
            recv: MonoNanos(0),
        };
        d.take(&ev, UnixNanos(1_000_000_000));
        let json: serde_json::Value = serde_json::from_str(&d.json()).unwrap();
        let row = &json["signals"][0];
        assert_eq!(row["what"], "advisor: cut");
        assert_eq!(row["by"], "trend");
        let text = row["text"].as_str().unwrap();
        assert!(
            text.contains("btc_1m_logreg P(up) 0.3100") && text.contains("factor 0.6200"),
            "{text}"
        );
    }
}
