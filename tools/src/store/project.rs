//! The projection: the rows one journaled input and the core's outputs
//! for it add to the store. The same code serves a rebuild (a replay of a
//! finished journal) and the live store (a shadow core following the
//! journal during a run), so the two hold the same rows.

use autobot_engine::config::CoreConfig;
use autobot_engine::core::Core;
use autobot_engine::event::{InputBody, InputEvent, OutputBody, OutputEvent};
use autobot_engine::types::SymbolId;

use super::schema::{Row, Table, Val};
use crate::analyze::Gather;
use crate::config::AppConfig;

/// Rows written, per table, and inputs read.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Inputs projected.
    pub inputs: u64,
    /// Rows per table.
    pub fills: u64,
    /// See `fills`.
    pub orders: u64,
    /// See `fills`.
    pub cancels: u64,
    /// See `fills`.
    pub decisions: u64,
    /// See `fills`.
    pub state_changes: u64,
    /// See `fills`.
    pub equity: u64,
    /// See `fills`.
    pub round_trips: u64,
}

impl Counts {
    /// Rows of every table.
    pub fn rows(&self) -> u64 {
        self.fills
            + self.orders
            + self.cancels
            + self.decisions
            + self.state_changes
            + self.equity
            + self.round_trips
    }

    fn count(&mut self, t: Table) {
        let c = match t {
            Table::Fills => &mut self.fills,
            Table::Orders => &mut self.orders,
            Table::Cancels => &mut self.cancels,
            Table::Decisions => &mut self.decisions,
            Table::StateChanges => &mut self.state_changes,
            Table::Equity => &mut self.equity,
            Table::RoundTrips => &mut self.round_trips,
        };
        *c += 1;
    }
}

/// Turns inputs and outputs into rows.
pub struct Projection {
    names: Vec<String>,
    last_minute: Option<u64>,
    /// Time of the last equity row (a second row at that time replaces it).
    last_equity: Option<u64>,
    /// Round trips, judged as `autobot analyze` judges them.
    trips: Gather,
    trips_written: usize,
    /// What has been projected.
    pub counts: Counts,
    /// The last input projected.
    pub last_seq: u64,
}

fn dbg(v: impl std::fmt::Debug) -> Val {
    Val::T(format!("{v:?}"))
}

impl Projection {
    /// Ready for the first input of a journal of a run with `cfg`.
    pub fn new(cfg: &AppConfig, core_cfg: &CoreConfig) -> Projection {
        Projection {
            names: core_cfg
                .instruments
                .iter()
                .map(|i| i.name.to_string())
                .collect(),
            last_minute: None,
            last_equity: None,
            trips: Gather::new(cfg, core_cfg),
            trips_written: 0,
            counts: Counts::default(),
            last_seq: 0,
        }
    }

    fn name(&self, sym: SymbolId) -> Val {
        Val::T(
            self.names
                .get(usize::from(sym.0))
                .cloned()
                .unwrap_or_else(|| format!("#{}", sym.0)),
        )
    }

    fn push(&mut self, out: &mut Vec<Row>, table: Table, vals: Vec<Val>) {
        self.counts.count(table);
        out.push(Row { table, vals });
    }

    /// The rows of `ev`, which `core` has just processed into `outputs`.
    pub fn input(
        &mut self,
        ev: &InputEvent,
        outputs: &[OutputEvent],
        core: &Core,
        out: &mut Vec<Row>,
    ) {
        self.counts.inputs += 1;
        self.last_seq = ev.header.seq.0;
        let ms = core.now().0 / 1_000_000;
        let seq = ev.header.seq.0;
        if let InputBody::OrderUpdate(u) = &ev.body
            && u.last_qty.is_positive()
        {
            let vals = vec![
                seq.into(),
                ms.into(),
                self.name(ev.header.symbol),
                Val::T(u.side.to_string()),
                Val::T(u.last_price.to_string()),
                Val::T(u.last_qty.to_string()),
                Val::T(u.fee.to_string()),
                dbg(u.liquidity),
                u.client_id.0.into(),
                dbg(u.status),
            ];
            self.push(out, Table::Fills, vals);
        }
        for o in outputs {
            let (table, vals) = match &o.body {
                OutputBody::NewOrder(n) => (
                    Table::Orders,
                    vec![
                        n.client_id.0.into(),
                        seq.into(),
                        ms.into(),
                        self.name(n.symbol),
                        Val::T(n.side.to_string()),
                        dbg(n.kind),
                        Val::T(n.price.to_string()),
                        Val::T(n.qty.to_string()),
                        n.reduce_only.into(),
                        n.post_only.into(),
                    ],
                ),
                OutputBody::Cancel(c) => (
                    Table::Cancels,
                    vec![
                        seq.into(),
                        ms.into(),
                        c.client_id.0.into(),
                        self.name(c.symbol),
                    ],
                ),
                OutputBody::Audit(a) => (
                    Table::Decisions,
                    vec![
                        seq.into(),
                        ms.into(),
                        a.id.0.into(),
                        self.name(a.symbol),
                        Val::T(a.side.to_string()),
                        dbg(a.origin),
                        Val::T(a.qty.to_string()),
                        dbg(a.verdict),
                        dbg(a.rule),
                        a.value.into(),
                        a.limit.into(),
                    ],
                ),
                OutputBody::StateChange(c) => (
                    Table::StateChanges,
                    vec![
                        seq.into(),
                        ms.into(),
                        "system".into(),
                        dbg(c.from),
                        dbg(c.to),
                        dbg(c.cause),
                    ],
                ),
                OutputBody::ModeChange(c) => (
                    Table::StateChanges,
                    vec![
                        seq.into(),
                        ms.into(),
                        "mode".into(),
                        dbg(c.from),
                        dbg(c.to),
                        dbg(c.cause),
                    ],
                ),
                _ => continue,
            };
            self.push(out, table, vals);
        }
        let minute = ms / 60_000;
        if self.last_minute != Some(minute) {
            self.last_minute = Some(minute);
            self.equity(ms, core, out);
        }
        self.trips.input(ev, core, outputs);
        self.closed_trips(seq, out);
    }

    /// The account's equity and balance at `ms`.
    fn equity(&mut self, ms: u64, core: &Core, out: &mut Vec<Row>) {
        let a = core.account();
        let vals = vec![
            ms.into(),
            Val::T(a.equity().to_string()),
            Val::T(a.balance().to_string()),
        ];
        if self.last_equity == Some(ms) {
            // The same key: the row replaces the one already counted.
            out.push(Row {
                table: Table::Equity,
                vals,
            });
        } else {
            self.push(out, Table::Equity, vals);
        }
        self.last_equity = Some(ms);
    }

    /// The trips input `seq` closed.
    fn closed_trips(&mut self, seq: u64, out: &mut Vec<Row>) {
        let fresh: Vec<Vec<Val>> = self.trips.trips()[self.trips_written..]
            .iter()
            .map(|t| {
                vec![
                    seq.into(),
                    Val::T(t.symbol.clone()),
                    Val::T(format!("{:?}", t.side).to_lowercase()),
                    Val::T(t.strategy.clone()),
                    Val::T(t.regime.clone()),
                    Val::T(t.opened.clone()),
                    Val::T(t.closed.clone()),
                    t.entry.into(),
                    t.exit.into(),
                    Val::T(t.exit_reason.clone()),
                    t.gross.into(),
                    t.fees.into(),
                    t.pnl.into(),
                ]
            })
            .collect();
        self.trips_written += fresh.len();
        for vals in fresh {
            self.push(out, Table::RoundTrips, vals);
        }
    }

    /// The last rows: the account at the last input's time.
    pub fn end(&mut self, core: &Core, out: &mut Vec<Row>) {
        self.equity(core.now().0 / 1_000_000, core, out);
    }
}
