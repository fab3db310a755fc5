//! The notifier's watcher: turns the core's notices into messages, and
//! watches the status board for what the outputs do not carry (the kill
//! switch released, orders waiting for approval) and for the UTC day
//! turning (the daily summary).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::thread::JoinHandle;
use std::time::Duration;

use autobot_engine::core::explain::{mode_name, state_name};
use autobot_engine::event::{AlertCode, ChangeCause, OutputBody, OutputEvent, SystemState};
use autobot_engine::runtime::notices::{Fills, Notices};
use autobot_engine::runtime::{BoardSnapshot, StatusBoard};

use super::{Message, Notifier, Severity};

/// How often the board is looked at.
const BOARD_EVERY: Duration = Duration::from_millis(250);
const DAY_MS: u64 = 86_400_000;

/// What the watcher needs to name things.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Symbols by id.
    pub symbols: Vec<String>,
    /// The dashboard's address, for links (none without an endpoint).
    pub dashboard: Option<String>,
}

/// Fills to announce: those of at least `notional` USDT.
#[derive(Debug)]
pub struct LargeFills {
    /// The gateways' fill copies.
    pub fills: Fills,
    /// The smallest notional announced (USDT, > 0).
    pub notional: f64,
}

/// The running watcher.
#[derive(Debug)]
pub struct Watch {
    thread: JoinHandle<()>,
    stop: Arc<AtomicBool>,
}

impl Watch {
    /// Starts watching `notices` and `board`, sending through `notifier`.
    pub fn start(
        notifier: Arc<Notifier>,
        notices: Notices,
        board: Arc<StatusBoard>,
        names: Names,
        large: Option<LargeFills>,
    ) -> std::io::Result<Watch> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("autobot-notify".into())
            .spawn(move || {
                let mut w = Watcher {
                    notifier,
                    board,
                    names,
                    kill: None,
                    large,
                    pending: BTreeSet::new(),
                    day: super::unix_ms() / DAY_MS,
                };
                w.run(&notices, &flag);
            })?;
        Ok(Watch { thread, stop })
    }

    /// Sends what is left (the notices already queued, the board's last
    /// changes) and ends.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.thread.join();
    }
}

struct Watcher {
    notifier: Arc<Notifier>,
    board: Arc<StatusBoard>,
    names: Names,
    /// The kill switch as last seen (none before the first look).
    kill: Option<bool>,
    large: Option<LargeFills>,
    /// Approval ids already announced.
    pending: BTreeSet<u64>,
    /// The UTC day (wall clock) of the last summary.
    day: u64,
}

impl Watcher {
    fn run(&mut self, notices: &Notices, stop: &AtomicBool) {
        loop {
            match notices.rx.recv_timeout(BOARD_EVERY) {
                Ok(ev) => {
                    let snap = self.board.snapshot();
                    if let Some(m) = self.notice(&ev.out, &snap) {
                        self.notifier.send(&m);
                    }
                    // The rest of a burst before looking at the board.
                    while let Ok(ev) = notices.rx.try_recv() {
                        if let Some(m) = self.notice(&ev.out, &snap) {
                            self.notifier.send(&m);
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    self.look();
                    return;
                }
            }
            self.look();
            if stop.load(Ordering::Acquire) {
                while let Ok(ev) = notices.rx.try_recv() {
                    let snap = self.board.snapshot();
                    if let Some(m) = self.notice(&ev.out, &snap) {
                        self.notifier.send(&m);
                    }
                }
                return;
            }
        }
    }

    fn msg(&self, kind: &'static str, severity: Severity, text: String) -> Message {
        Message::new(kind, severity, text, self.notifier.run())
    }

    fn symbol(&self, id: u16) -> &str {
        self.names
            .symbols
            .get(usize::from(id))
            .map_or("?", String::as_str)
    }

    /// A core notice in words.
    fn notice(&self, ev: &OutputEvent, snap: &BoardSnapshot) -> Option<Message> {
        let mut m = match ev.body {
            OutputBody::StateChange(c) => {
                let severity = match c.to {
                    SystemState::Stopped if c.cause == ChangeCause::Shutdown => Severity::Info,
                    SystemState::Halted | SystemState::Stopped => Severity::Critical,
                    SystemState::SafeMode | SystemState::Degraded => Severity::Warning,
                    SystemState::Running => Severity::Info,
                };
                let a = &snap.account;
                let values = match c.cause {
                    ChangeCause::DailyLoss
                    | ChangeCause::Drawdown
                    | ChangeCause::ConsecutiveLosses => {
                        // The loss streak is reset when its breaker trips:
                        // a zero here says nothing, so it is left out.
                        let streak = if a.consecutive_losses > 0 {
                            format!(", {} losses in a row", a.consecutive_losses)
                        } else {
                            String::new()
                        };
                        format!(
                            ": daily PnL {} USDT, drawdown {:.2}%{streak}",
                            a.daily_pnl,
                            a.drawdown.to_f64() * 100.0,
                        )
                    }
                    _ => String::new(),
                };
                self.msg(
                    "state",
                    severity,
                    format!(
                        "state {} → {} ({}){values}",
                        state_name(c.from),
                        state_name(c.to),
                        cause_words(c.cause)
                    ),
                )
            }
            OutputBody::ModeChange(c) if c.cause == ChangeCause::KillSwitch => self.msg(
                "kill_switch",
                Severity::Critical,
                format!(
                    "kill switch engaged: mode {} → {}; nothing adding risk goes out",
                    mode_name(c.from),
                    mode_name(c.to)
                ),
            ),
            OutputBody::ModeChange(c) => self.msg(
                "mode",
                Severity::Warning,
                format!(
                    "mode {} → {} ({})",
                    mode_name(c.from),
                    mode_name(c.to),
                    cause_words(c.cause)
                ),
            ),
            OutputBody::Alert(a) => {
                let severity = match a.code {
                    AlertCode::LiquidationNear
                    | AlertCode::MarginCall
                    | AlertCode::Liquidated
                    | AlertCode::Unprotected
                    | AlertCode::PositionDrift => Severity::Critical,
                    _ => Severity::Warning,
                };
                self.msg(
                    "alert",
                    severity,
                    format!(
                        "{} on {}: {}",
                        snake(&format!("{:?}", a.code)),
                        self.symbol(a.symbol.0),
                        autobot_engine::core::explain::alert_text(&a)
                    ),
                )
            }
            _ => return None,
        };
        m.seq = Some(ev.cause.0);
        Some(m)
    }

    /// Fills of at least the configured notional.
    fn large_fills(&mut self) {
        let Some(large) = &self.large else { return };
        let mut found = Vec::new();
        while let Ok(ev) = large.fills.rx.try_recv() {
            let autobot_engine::event::InputBody::OrderUpdate(u) = ev.body else {
                continue;
            };
            let notional = u.last_qty.to_f64() * u.last_price.to_f64();
            if notional >= large.notional {
                found.push((ev.header.symbol.0, u, notional));
            }
        }
        for (sym, u, notional) in found {
            let m = self.msg(
                "fill",
                Severity::Warning,
                format!(
                    "fill: {} {} {} at {} = {:.2} USDT ({}, fee {}, order {})",
                    snake(&format!("{:?}", u.side)),
                    u.last_qty,
                    self.symbol(sym),
                    u.last_price,
                    notional,
                    snake(&format!("{:?}", u.liquidity)),
                    u.fee,
                    u.client_id.0
                ),
            );
            self.notifier.send(&m);
        }
    }

    /// What the board shows that the outputs do not carry.
    fn look(&mut self) {
        self.large_fills();
        let snap = self.board.snapshot();
        if self.kill == Some(true) && !snap.kill_switch {
            let m = self.msg(
                "kill_switch",
                Severity::Warning,
                format!("kill switch released; mode {}", mode_name(snap.mode)),
            );
            self.notifier.send(&m);
        }
        self.kill = Some(snap.kill_switch);
        let waiting: BTreeSet<u64> = snap.pending.iter().map(|p| p.id.0).collect();
        for p in &snap.pending {
            if self.pending.contains(&p.id.0) {
                continue;
            }
            let link = self
                .names
                .dashboard
                .as_ref()
                .map_or_else(String::new, |d| format!(" — {d}/#approvals"));
            let m = self.msg(
                "approval",
                Severity::Warning,
                format!(
                    "order {} waits for approval: {:?} {} {}{link}",
                    p.id.0,
                    p.side,
                    p.qty,
                    self.symbol(p.symbol.0)
                ),
            );
            self.notifier.send(&m);
        }
        self.pending = waiting;
        let day = super::unix_ms() / DAY_MS;
        if day != self.day {
            self.day = day;
            let a = &snap.account;
            let m = self.msg(
                "daily_summary",
                Severity::Info,
                format!(
                    "daily summary at 00:00 UTC: equity {} USDT, daily PnL {} USDT, drawdown {:.2}%, \
                     {} orders, {} fills, {} vetoes, {} alerts so far; state {}, mode {}",
                    a.equity,
                    a.daily_pnl,
                    a.drawdown.to_f64() * 100.0,
                    snap.orders,
                    snap.fills,
                    snap.vetoes,
                    snap.alerts,
                    state_name(snap.state),
                    mode_name(snap.mode)
                ),
            );
            self.notifier.send(&m);
        }
    }
}

fn snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn cause_words(c: ChangeCause) -> String {
    snake(&format!("{c:?}")).replace('_', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_snake_case() {
        assert_eq!(snake("LiquidationNear"), "liquidation_near");
        assert_eq!(cause_words(ChangeCause::DailyLoss), "daily loss");
    }
}
