//! A trace a person reads: each input and the outputs it caused, with
//! symbols, strategies, rules, alerts and refusals by name, prices,
//! quantities and money as decimals, and every line at its own time (the
//! exchange's, a timer's, or for an operator command the core's clock when
//! it was processed). `autobot replay --trace` and `autobot backtest
//! --trace` print it, as text or JSON lines, through the same [`Tracer`],
//! so the two traces of the same inputs are the same text.
//!
//! Off the hot path: it allocates and formats.

use std::fmt::Write as _;

use crate::core::{Core, CoreStats, explain};
use crate::event::{InputBody, InputEvent, Origin, OutputBody, OutputEvent};
use crate::types::SymbolId;

/// Names of the configured symbols and strategy instances.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Symbols, by `SymbolId`.
    pub symbols: Vec<String>,
    /// Strategy instances, by number.
    pub strategies: Vec<String>,
    /// The advisor's models, by registry index.
    pub models: Vec<String>,
}

impl Names {
    fn symbol(&self, id: SymbolId) -> String {
        self.symbols
            .get(usize::from(id.0))
            .cloned()
            .unwrap_or_else(|| format!("#{}", id.0))
    }

    fn model(&self, i: u8) -> String {
        self.models
            .get(usize::from(i))
            .cloned()
            .unwrap_or_else(|| format!("#{i}"))
    }

    fn strategy(&self, i: u8) -> String {
        self.strategies
            .get(usize::from(i))
            .cloned()
            .unwrap_or_else(|| format!("#{i}"))
    }
}

/// What a trace line is about (`--kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A strategy signal.
    Signal,
    /// A veto-chain decision.
    Audit,
    /// An order sent or cancelled.
    Order,
    /// A fill (an execution report with a filled quantity): the input.
    Fill,
    /// A system-state, mode or regime change, or an alert.
    State,
    /// Strategy entries not taken, counted per reason per second.
    Skipped,
    /// Funding and strategy weights.
    Other,
    /// The advisor: feature vectors, predictions and what they did.
    Advice,
}

impl Kind {
    /// Every kind, as `--kind` names them.
    pub const ALL: [(Kind, &'static str); 8] = [
        (Kind::Signal, "signal"),
        (Kind::Audit, "audit"),
        (Kind::Order, "order"),
        (Kind::Fill, "fill"),
        (Kind::State, "state"),
        (Kind::Skipped, "skipped"),
        (Kind::Other, "other"),
        (Kind::Advice, "advice"),
    ];

    /// The kind's name.
    pub fn name(self) -> &'static str {
        Kind::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("other", |(_, n)| n)
    }

    /// The kind named `s`.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.iter().find(|(_, n)| *n == s).map(|(k, _)| *k)
    }
}

/// Which lines to print.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only lines about this symbol.
    pub symbol: Option<String>,
    /// Only lines attributable to this strategy instance (its signals and
    /// weights, and the audits and orders that follow its signal).
    pub strategy: Option<String>,
    /// Only these kinds (empty: all).
    pub kinds: Vec<Kind>,
}

/// Text or JSON lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// `#seq time symbol input` then indented output lines.
    #[default]
    Text,
    /// One JSON object per output line.
    Jsonl,
}

/// One rendered output.
#[derive(Clone, Debug, serde::Serialize)]
struct Line {
    seq: u64,
    time: String,
    /// `exchange`, `timer` or `core` (an operator command's processing).
    clock: &'static str,
    input: &'static str,
    kind: &'static str,
    symbol: String,
    strategy: String,
    text: String,
    /// The output (or the fill) as recorded: decimals as decimal strings,
    /// ids as numbers.
    data: serde_json::Value,
    /// The input's own line (a fill, a prediction), printed as the input
    /// line in text.
    #[serde(skip)]
    own: bool,
}

/// Entries not taken, by reason, as `CoreStats` counts them.
const SKIP_REASONS: [&str; 8] = [
    "held (state, mode or kill switch)",
    "shadowed by another instance",
    "off-regime",
    "expected move below cost",
    "repeated after a veto",
    "sized below one lot",
    "instance disabled",
    "high volatility",
];

fn skip_counts(s: &CoreStats) -> [u64; 8] {
    [
        s.signals_held,
        s.signals_shadowed,
        s.signals_off_regime,
        s.signals_below_cost,
        s.signals_repeated,
        s.signals_too_small,
        s.signals_disabled,
        s.signals_high_vol,
    ]
}

/// Renders inputs and their outputs, keeping the per-second counts of
/// entries not taken between calls.
#[derive(Debug)]
pub struct Tracer {
    names: Names,
    filter: Filter,
    format: Format,
    /// Counts before the current input, and the second they accumulate in.
    skips_before: [u64; 8],
    pending: [u64; 8],
    pending_second: Option<u64>,
    pending_seq: u64,
}

impl Tracer {
    /// A tracer for a core starting at `stats` (a restored core's counts).
    pub fn new(names: Names, filter: Filter, format: Format, stats: &CoreStats) -> Tracer {
        Tracer {
            names,
            filter,
            format,
            skips_before: skip_counts(stats),
            pending: [0; 8],
            pending_second: None,
            pending_seq: 0,
        }
    }

    fn wants(&self, kind: Kind, symbol: &str, strategy: &str) -> bool {
        (self.filter.kinds.is_empty() || self.filter.kinds.contains(&kind))
            && self.filter.symbol.as_deref().is_none_or(|s| s == symbol)
            && self
                .filter
                .strategy
                .as_deref()
                .is_none_or(|s| s == strategy)
    }

    /// The lines for input `ev` (just processed by `core`, which emitted
    /// `outputs`), appended to `out`: the entries not taken in the second
    /// that ended before it, then the input and its outputs.
    pub fn input(
        &mut self,
        ev: &InputEvent,
        core: &Core,
        outputs: &[OutputEvent],
        out: &mut String,
    ) {
        let (time, clock) = match ev.body {
            InputBody::Timer(t) => (t.now.0, "timer"),
            _ if ev.header.exchange.0 > 0 => (ev.header.exchange.0, "exchange"),
            _ => (core.now().0, "core"),
        };
        let second = time / 1_000_000_000;
        let now = skip_counts(core.stats());
        let added: [u64; 8] = std::array::from_fn(|k| now[k].saturating_sub(self.skips_before[k]));
        self.skips_before = now;
        if self.pending_second.is_some_and(|s| s != second) {
            self.flush(out);
        }
        if added.iter().any(|n| *n > 0) {
            self.pending_second.get_or_insert(second);
            self.pending_seq = ev.header.seq.0;
            for (p, a) in self.pending.iter_mut().zip(&added) {
                *p += a;
            }
        }
        let fill = matches!(ev.body, InputBody::OrderUpdate(u) if u.last_qty.is_positive());
        let prediction = matches!(ev.body, InputBody::Prediction(_));
        if outputs.is_empty() && !fill && !prediction {
            return;
        }
        let input_symbol = self.names.symbol(ev.header.symbol);
        let input_name = InputBody::KIND_NAMES[ev.body.kind_index()];
        let mut lines = Vec::with_capacity(outputs.len() + 1);
        if fill && self.wants(Kind::Fill, &input_symbol, "") {
            lines.push(Line {
                seq: ev.header.seq.0,
                time: utc(time),
                clock,
                input: input_name,
                kind: Kind::Fill.name(),
                symbol: input_symbol.clone(),
                strategy: String::new(),
                text: input_text(&ev.body, &self.names),
                data: serde_json::to_value(ev.body).unwrap_or_default(),
                own: true,
            });
        }
        if prediction && self.wants(Kind::Advice, &input_symbol, "") {
            lines.push(Line {
                seq: ev.header.seq.0,
                time: utc(time),
                clock,
                input: input_name,
                kind: Kind::Advice.name(),
                symbol: input_symbol.clone(),
                strategy: String::new(),
                text: input_text(&ev.body, &self.names),
                data: serde_json::to_value(ev.body).unwrap_or_default(),
                own: true,
            });
        }
        // The strategy behind each symbol's audits and orders in this input:
        // the one whose signal came first.
        let mut by: Vec<(SymbolId, String)> = Vec::new();
        for o in outputs {
            let (kind, symbol, strategy) = self.classify(&o.body, &mut by);
            let symbol = symbol.map_or_else(|| input_symbol.clone(), |s| self.names.symbol(s));
            if !self.wants(kind, &symbol, &strategy) {
                continue;
            }
            lines.push(Line {
                seq: ev.header.seq.0,
                time: utc(time),
                clock,
                input: input_name,
                kind: kind.name(),
                text: self.text(&o.body),
                data: serde_json::to_value(o.body).unwrap_or_default(),
                symbol,
                strategy,
                own: false,
            });
        }
        if lines.is_empty() {
            return;
        }
        match self.format {
            Format::Jsonl => {
                for l in &lines {
                    let _ = writeln!(out, "{}", serde_json::to_string(l).unwrap_or_default());
                }
            }
            Format::Text => {
                let when = if clock == "exchange" {
                    utc(time)
                } else {
                    format!("{} ({clock})", utc(time))
                };
                let _ = writeln!(
                    out,
                    "#{} {when} {input_symbol} {}",
                    ev.header.seq.0,
                    input_text(&ev.body, &self.names)
                );
                // A fill's or a prediction's own line is the input line
                // above.
                for l in lines.iter().filter(|l| !l.own) {
                    let _ = writeln!(out, "    {:<7} {}", l.kind, l.text);
                }
            }
        }
    }

    /// Writes the entries not taken that are still counted (call at the end).
    pub fn flush(&mut self, out: &mut String) {
        let Some(second) = self.pending_second.take() else {
            return;
        };
        let counts = std::mem::take(&mut self.pending);
        if !self.wants(
            Kind::Skipped,
            self.filter.symbol.as_deref().unwrap_or(""),
            self.filter.strategy.as_deref().unwrap_or(""),
        ) {
            return;
        }
        let parts: Vec<String> = counts
            .iter()
            .zip(SKIP_REASONS)
            .filter(|(n, _)| **n > 0)
            .map(|(n, why)| format!("{why} {n}"))
            .collect();
        let text = format!("entries not taken: {}", parts.join(", "));
        let time = utc(second * 1_000_000_000);
        match self.format {
            Format::Jsonl => {
                let l = Line {
                    seq: self.pending_seq,
                    time,
                    clock: "exchange",
                    input: "",
                    kind: Kind::Skipped.name(),
                    symbol: String::new(),
                    strategy: String::new(),
                    text,
                    data: serde_json::Value::Null,
                    own: false,
                };
                let _ = writeln!(out, "{}", serde_json::to_string(&l).unwrap_or_default());
            }
            Format::Text => {
                let _ = writeln!(
                    out,
                    "  {time} (the second to #{}): {text}",
                    self.pending_seq
                );
            }
        }
    }

    /// Kind, symbol and strategy of an output.
    fn classify(
        &self,
        o: &OutputBody,
        by: &mut Vec<(SymbolId, String)>,
    ) -> (Kind, Option<SymbolId>, String) {
        let owner = |by: &Vec<(SymbolId, String)>, s: SymbolId| {
            by.iter()
                .find(|(x, _)| *x == s)
                .map(|(_, n)| n.clone())
                .unwrap_or_default()
        };
        match o {
            OutputBody::Signal(s) => {
                let name = self.names.strategy(s.strategy);
                by.retain(|(x, _)| *x != s.symbol);
                by.push((s.symbol, name.clone()));
                (Kind::Signal, Some(s.symbol), name)
            }
            OutputBody::Audit(a) => {
                let who = if a.origin == Origin::Strategy {
                    owner(by, a.symbol)
                } else {
                    String::new()
                };
                (Kind::Audit, Some(a.symbol), who)
            }
            OutputBody::NewOrder(n) => (Kind::Order, Some(n.symbol), owner(by, n.symbol)),
            OutputBody::Cancel(c) => (Kind::Order, Some(c.symbol), String::new()),
            OutputBody::Alert(a) => (
                Kind::State,
                about_symbol(a.code).then_some(a.symbol),
                String::new(),
            ),
            OutputBody::StateChange(_) | OutputBody::ModeChange(_) => {
                (Kind::State, None, String::new())
            }
            OutputBody::Regime(r) => (Kind::State, Some(r.symbol), String::new()),
            OutputBody::Funding(f) => (Kind::Other, Some(f.symbol), String::new()),
            OutputBody::Weight(w) => (Kind::Other, None, self.names.strategy(w.strategy)),
            OutputBody::Features { symbol, .. } => (Kind::Advice, Some(*symbol), String::new()),
            OutputBody::Advice(a) => (
                Kind::Advice,
                Some(a.symbol),
                self.names.strategy(a.strategy),
            ),
        }
    }

    fn text(&self, o: &OutputBody) -> String {
        output_text(o, &self.names)
    }
}

/// An output in words, with `names` for symbols and strategies: what the
/// trace and the dashboard's decision log print.
pub fn output_text(o: &OutputBody, names: &Names) -> String {
    match o {
        OutputBody::Signal(s) => format!(
            "{} wants {:?} ({:?}, confidence {}) at {}; stop {}, target {}, size {}",
            names.strategy(s.strategy),
            s.stance,
            s.reason,
            s.confidence,
            s.entry,
            s.stop,
            s.take,
            s.qty
        ),
        OutputBody::Audit(a) => explain::audit_line(a, &names.symbol(a.symbol)),
        OutputBody::NewOrder(n) => format!(
            "new #{} {:?} {:?} {} {} at {}{}{}",
            n.client_id.0,
            n.side,
            n.kind,
            n.qty,
            names.symbol(n.symbol),
            if n.price.is_positive() {
                n.price.to_string()
            } else {
                "market".into()
            },
            if n.reduce_only { ", reduce-only" } else { "" },
            if n.post_only { ", post-only" } else { "" },
        ),
        OutputBody::Cancel(c) => format!("cancel #{}", c.client_id.0),
        OutputBody::Alert(a) if !about_symbol(a.code) => {
            format!("alert {:?}: {}", a.code, explain::alert_text(a))
        }
        OutputBody::Alert(a) => format!(
            "alert {:?} on {}: {}",
            a.code,
            names.symbol(a.symbol),
            explain::alert_text(a)
        ),
        OutputBody::StateChange(c) => format!(
            "state {} -> {} ({:?})",
            explain::state_name(c.from),
            explain::state_name(c.to),
            c.cause
        ),
        OutputBody::ModeChange(c) => format!(
            "mode {} -> {} ({:?})",
            explain::mode_name(c.from),
            explain::mode_name(c.to),
            c.cause
        ),
        OutputBody::Regime(r) => format!(
            "regime {:?} -> {:?} (strength {}, volatility {} bps)",
            r.from, r.to, r.strength, r.vol_bps
        ),
        OutputBody::Funding(f) => format!(
            "funding {} USDT at rate {} on mark {}",
            f.amount, f.rate, f.mark
        ),
        OutputBody::Weight(w) => format!(
            "{} weight {} after {} losses",
            names.strategy(w.strategy),
            w.weight,
            w.losses
        ),
        OutputBody::Features { part, bits, .. } => {
            let first = usize::from(*part) * crate::event::FEATURES_PER_PART;
            let mut s = format!("features for the advisor (part {}):", part + 1);
            let names = crate::features::vector::FEATURES.iter().skip(first);
            for ((name, _), b) in names.zip(bits) {
                let _ = write!(s, " {name} {:.6}", f32::from_bits(*b));
            }
            s
        }
        OutputBody::Advice(a) => advice_text(a, names),
    }
}

/// A millionths value as a decimal with four places.
fn millionths(v: u32) -> String {
    format!("{:.4}", f64::from(v) / 1e6)
}

/// The advisor's audit record in words: both inputs of the fusion and
/// what came of them.
fn advice_text(a: &crate::event::Advice, names: &Names) -> String {
    let who = format!(
        "{} {:?} entry of {}",
        names.strategy(a.strategy),
        a.stance,
        a.qty
    );
    if a.age == u32::MAX {
        return format!(
            "advisor on {who}: no fresh prediction of {}: {}",
            names.model(a.model),
            a.verdict.name()
        );
    }
    format!(
        "advisor on {who}: {} P(up) {} (confidence {}, features {} inputs back), strategy confidence {}; factor {}, fused {}: {}",
        names.model(a.model),
        millionths(a.score),
        millionths(a.confidence),
        a.age,
        millionths(a.strategy_confidence),
        millionths(a.factor),
        millionths(a.fused),
        a.verdict.name()
    )
}

/// Whether an alert's symbol means something (a refused command's does
/// not: it is the header's default).
fn about_symbol(code: crate::event::AlertCode) -> bool {
    use crate::event::AlertCode as C;
    !matches!(
        code,
        C::OperatorRefused | C::ModeRefused | C::Overflow | C::OrderTableFull
    )
}

/// An input in words, decimals as decimals, `names` for the models.
pub fn input_text(b: &InputBody, names: &Names) -> String {
    match b {
        InputBody::BookTicker(t) => format!(
            "book bid {} x {} / ask {} x {}",
            t.bid_price, t.bid_qty, t.ask_price, t.ask_qty
        ),
        InputBody::AggTrade(t) => format!(
            "trade {} at {} ({} aggressor)",
            t.qty,
            t.price,
            if t.buyer_is_maker { "sell" } else { "buy" }
        ),
        InputBody::Depth(d) => format!(
            "depth diff {}..{} ({} bids, {} asks)",
            d.first_update_id, d.final_update_id, d.bid_count, d.ask_count
        ),
        InputBody::MarkPrice(m) => format!(
            "mark {} (index {}), funding rate {}",
            m.mark_price, m.index_price, m.funding_rate
        ),
        InputBody::Liquidation(l) => format!(
            "market liquidation {:?} {} at {}",
            l.side, l.filled_qty, l.price
        ),
        InputBody::Kline(k) => format!(
            "{} s bar O {} H {} L {} C {} V {}",
            k.interval_secs, k.open, k.high, k.low, k.close, k.volume
        ),
        InputBody::OrderUpdate(u) => format!(
            "report #{} {:?} {:?}: {} at {} (cumulative {}), fee {} USDT, {:?}",
            u.client_id.0,
            u.status,
            u.side,
            u.last_qty,
            u.last_price,
            u.cum_qty,
            u.fee,
            u.liquidity
        ),
        InputBody::AccountUpdate(a) => format!(
            "account ({:?}): wallet {} USDT, position {} at {}",
            a.reason, a.wallet_balance, a.position_qty, a.entry_price
        ),
        InputBody::OrderRejected(r) => format!(
            "exchange refused #{} ({:?}): code {} ({:?})",
            r.client_id.0, r.request, r.code, r.reason
        ),
        InputBody::Operator(c) => {
            let mut s = format!("operator {}", explain::action_name(c.action));
            match c.action {
                crate::event::OperatorAction::SetMode => {
                    let to = crate::event::ControlMode::ALL
                        .get(c.arg as usize)
                        .map_or("?", |m| explain::mode_name(*m));
                    let _ = write!(s, " {to}");
                }
                crate::event::OperatorAction::Order => {
                    let _ = write!(s, " {:?} {:?} {}", c.side, c.kind, c.qty);
                    if c.price.is_positive() {
                        let _ = write!(s, " at {}", c.price);
                    }
                }
                _ if c.arg != 0 => {
                    let _ = write!(s, " {}", c.arg);
                }
                _ => {}
            }
            s
        }
        InputBody::Timer(_) => "timer".into(),
        InputBody::FeedStatus(f) => format!("feed {:?} {:?}", f.feed, f.health),
        InputBody::Funding(f) => format!("funding settled at rate {} on mark {}", f.rate, f.mark),
        InputBody::Prediction(p) => format!(
            "prediction of {}: P(up over {} bars) {} (confidence {}) from the features of #{}",
            names.model(p.model),
            p.horizon,
            millionths(p.score),
            millionths(p.confidence),
            p.features_seq.0
        ),
    }
}

/// `2024-01-01T00:00:05.250Z` (milliseconds).
pub fn utc(ns: u64) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(ns))
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_is_the_calendar() {
        assert_eq!(utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(utc(1_689_678_839_999_000_000), "2023-07-18T11:13:59.999Z");
        assert_eq!(utc(1_709_210_096_000_000_000), "2024-02-29T12:34:56.000Z");
    }
}
