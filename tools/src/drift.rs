//! Periodic reconciliation of a testnet or live run: every
//! `[exchange] reconcile_every_secs` a timer thread reads the account's
//! positions over REST and publishes one `AccountUpdate` (reason
//! `Reconcile`) per configured symbol. The core compares each with its own
//! position (`core/execution.rs`, `reconcile`): a difference seen twice with
//! no order in flight is alerted (`PositionDrift`) and, with
//! `[risk.breakers] on_drift = "safe_mode"`, holds SAFE_MODE until they
//! agree. The reads are journaled inputs, so a replay reaches the same
//! verdicts without the exchange.
//!
//! It sleeps between rounds: a timer, never on the hot path. A failed read
//! is logged and skipped (the next round tries again); it never stops the
//! run.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use autobot_engine::event::{AccountReason, AccountUpdate, InputBody, InputEvent, Source};
use autobot_engine::runtime::InputPublisher;
use autobot_engine::runtime::clock::mono_now;
use autobot_engine::types::{Money, Price, Qty, SymbolId, UnixNanos};
use autobot_gateways::binance::execution::ExecClient;

/// The running reconciliation timer.
#[derive(Debug)]
pub struct Reconciler {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<u64>,
}

impl Reconciler {
    /// Reads positions with `client` (trading `names`, in `SymbolId`
    /// order) every `every`, publishing through `publisher`.
    pub fn start(
        mut client: ExecClient,
        names: Vec<String>,
        every: Duration,
        mut publisher: InputPublisher,
    ) -> std::io::Result<Reconciler> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("autobot-reconcile".into())
            .spawn(move || {
                let mut rounds = 0;
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    let positions = match client.position_list() {
                        Ok(p) => p,
                        Err(e) => {
                            eprintln!("reconciliation: reading positions failed ({e}); next round");
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
                            wallet_balance: Money::ZERO,
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
