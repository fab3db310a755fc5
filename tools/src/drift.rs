//! Periodic reconciliation of a testnet or live run: every
//! `[exchange] reconcile_every_secs` a timer thread asks the exchange over
//! REST about
//! - **open orders**: every order the ledger holds open is queried, and
//!   what the user-data stream did not deliver (a fill, a cancel someone
//!   made at the web UI, a stop that expired) is published as the report
//!   the stream would have sent (`binance::reconcile`, the same code that
//!   recovers an outage; the ledger drops whichever copy comes second);
//! - **positions and the wallet**: one `AccountUpdate` (reason
//!   `Reconcile`) per configured symbol, carrying the margin asset's wallet
//!   balance. The core compares each with its own (`core/execution.rs`):
//!   a position that differs twice with no order in flight is alerted
//!   (`PositionDrift`) and, with `[risk.breakers] on_drift = "safe_mode"`,
//!   holds SAFE_MODE until they agree; a wallet that differs twice is
//!   alerted (`BalanceMismatch`).
//!
//! The reads are journaled inputs, so a replay reaches the same verdicts
//! without the exchange.
//!
//! It sleeps between rounds: a timer, never on the hot path. A failed read
//! is logged and skipped (the next round tries again); it never stops the
//! run.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use autobot_engine::event::{AccountReason, AccountUpdate, InputBody, InputEvent, Source};
use autobot_engine::runtime::InputPublisher;
use autobot_engine::runtime::clock::mono_now;
use autobot_engine::types::{Money, Price, Qty, SymbolId, UnixNanos};
use autobot_gateways::binance::execution::ExecClient;
use autobot_gateways::binance::ledger::OrderLedger;
use autobot_gateways::binance::reconcile::reconcile;

/// The running reconciliation timer.
#[derive(Debug)]
pub struct Reconciler {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<u64>,
}

impl Reconciler {
    /// Asks with `client` (trading `names`, in `SymbolId` order) about the
    /// orders `ledger` holds open, the positions and the wallet every
    /// `every`, publishing through `publisher`.
    pub fn start(
        mut client: ExecClient,
        names: Vec<String>,
        ledger: Arc<OrderLedger>,
        every: Duration,
        mut publisher: InputPublisher,
    ) -> std::io::Result<Reconciler> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("autobot-reconcile".into())
            .spawn(move || {
                let mut rounds = 0;
                let mut missed = Vec::new();
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    missed.clear();
                    let orders = reconcile(&mut client, &ledger, &mut missed);
                    for ev in &missed {
                        if publisher.publish(*ev).is_err() {
                            return rounds;
                        }
                    }
                    if let Err(e) = orders {
                        eprintln!("reconciliation: querying open orders failed ({e}); next round");
                    }
                    let read = client
                        .position_list()
                        .and_then(|p| Ok((p, client.wallet("USDT")?)));
                    let (positions, wallet) = match read {
                        Ok(r) => r,
                        Err(e) => {
                            eprintln!(
                                "reconciliation: reading the account failed ({e}); next round"
                            );
                            continue;
                        }
                    };
                    rounds += 1;
                    for (i, name) in names.iter().enumerate() {
                        let theirs = positions
                            .iter()
                            .filter(|p| &p.symbol == name)
                            .fold(Qty::ZERO, |a, p| a.checked_add(p.qty).unwrap_or(a));
                        let read = AccountUpdate {
                            reason: AccountReason::Reconcile,
                            wallet_balance: wallet,
                            position_qty: theirs,
                            entry_price: Price::ZERO,
                            unrealized_pnl: Money::ZERO,
                        };
                        let ev = InputEvent::new(
                            Source::UserData,
                            SymbolId(u16::try_from(i).unwrap_or(u16::MAX)),
                            mono_now(),
                            UnixNanos(0),
                            InputBody::AccountUpdate(read),
                        );
                        if publisher.publish(ev).is_err() {
                            return rounds;
                        }
                    }
                }
                rounds
            })?;
        Ok(Reconciler { stop, thread })
    }

    /// Stops the timer and lets go of its publisher (the input ring shuts
    /// down only when every publisher is gone); the rounds it completed.
    pub fn finish(self) -> u64 {
        let _ = self.stop.send(());
        self.thread.join().unwrap_or(0)
    }
}

/// `Some` period when reconciliation is on.
pub fn period(every_secs: u64) -> Option<Duration> {
    (every_secs > 0).then(|| Duration::from_secs(every_secs))
}

#[cfg(test)]
mod tests {
    #[test]
    fn zero_is_off() {
        assert_eq!(super::period(0), None);
        assert_eq!(super::period(30), Some(std::time::Duration::from_secs(30)));
    }
}
