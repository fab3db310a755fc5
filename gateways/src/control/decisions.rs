//! The dashboard's decision log: a read model of the core's veto audits,
//! strategy signals, orders and cancels, fed by the output ring's tap
//! (`runtime::notices`, the records queue) and drained on the endpoint's
//! thread. It keeps the last [`KEEP`] of each, in words and in human units
//! (`core::explain`), and the vetoes counted by rule since the run began.
//!
//! The tap never waits for it: when the endpoint is behind, records are
//! dropped there and counted, and the view says how many.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use autobot_engine::core::explain;
use autobot_engine::event::{OutputBody, OutputEvent, Rule, Verdict};
use autobot_engine::runtime::notices::Notices;

/// Rows of each kind kept.
pub const KEEP: usize = 200;
/// Records taken per turn of the endpoint's loop (the rest wait for the next).
const PER_TICK: usize = 20_000;

/// One line of the log.
#[derive(Clone, serde::Serialize)]
struct Row {
    /// Wall-clock time the endpoint read it, Unix ms.
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

/// The read model.
pub(super) struct Decisions {
    rx: Option<Notices>,
    symbols: Vec<String>,
    strategies: Vec<String>,
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
    /// Records the tap dropped (the endpoint was behind).
    dropped: u64,
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn push(q: &mut VecDeque<Row>, row: Row) {
    if q.len() == KEEP {
        q.pop_front();
    }
    q.push_back(row);
}

impl Decisions {
    pub(super) fn new(rx: Option<Notices>, symbols: Vec<String>, strategies: Vec<String>) -> Self {
        Decisions {
            rx,
            symbols,
            strategies,
            audits: VecDeque::with_capacity(KEEP),
            signals: VecDeque::with_capacity(KEEP),
            orders: VecDeque::with_capacity(KEEP),
            vetoes: [0; Rule::ALL.len()],
        }
    }

    fn symbol(&self, id: u16) -> String {
        self.symbols
            .get(usize::from(id))
            .cloned()
            .unwrap_or_else(|| format!("#{id}"))
    }

    /// Takes what the tap queued (called on every turn of the loop).
    pub(super) fn drain(&mut self) {
        let Some(rx) = self.rx.take() else { return };
        for _ in 0..PER_TICK {
            match rx.rx.try_recv() {
                Ok(ev) => self.take(&ev),
                Err(_) => break,
            }
        }
        self.rx = Some(rx);
    }

    fn take(&mut self, ev: &OutputEvent) {
        let t_ms = unix_ms();
        let seq = ev.cause.0;
        match ev.body {
            OutputBody::Audit(a) => {
                if a.verdict == Verdict::Vetoed
                    && let Some(n) = self.vetoes.get_mut(a.rule as usize)
                {
                    *n += 1;
                }
                let symbol = self.symbol(a.symbol.0);
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
                    .strategies
                    .get(usize::from(s.strategy))
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", s.strategy));
                let row = Row {
                    t_ms,
                    seq,
                    symbol: self.symbol(s.symbol.0),
                    what: format!("{:?}", s.stance).to_lowercase(),
                    text: format!(
                        "{by} wants {:?} ({:?}, confidence {}) at {}; stop {}, target {}, size {}",
                        s.stance, s.reason, s.confidence, s.entry, s.stop, s.take, s.qty
                    ),
                    by,
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
                    text: format!(
                        "#{} {:?} {:?} {} at {}{}{}",
                        o.client_id.0,
                        o.side,
                        o.kind,
                        o.qty,
                        if o.price.is_positive() {
                            o.price.to_string()
                        } else {
                            "market".into()
                        },
                        if o.reduce_only { ", reduce-only" } else { "" },
                        if o.post_only { ", post-only" } else { "" },
                    ),
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
                    text: format!("cancel #{}", c.client_id.0),
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
            dropped: self
                .rx
                .as_ref()
                .map_or(0, |r| r.dropped.load(Ordering::Relaxed)),
        };
        serde_json::to_string(&view).unwrap_or_else(|_| "{}".into())
    }
}
