//! `autobot ctl`: its arguments and one request to a running engine.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::Reported;

#[derive(Debug, Subcommand)]
pub enum CtlAction {
    /// State, mode, kill switch, PnL, positions and pending approvals.
    Status,
    /// Engage the kill switch: nothing that adds risk goes out, resting
    /// entries are cancelled, mode emergency; exits (stops, flatten) still go.
    Kill {
        /// Also close every position (reduce-only market orders).
        #[arg(long)]
        flatten: bool,
    },
    /// Release the kill switch and the breakers that wait for an operator
    /// (drawdown once recovered, auth failure, an exchange liquidation's
    /// hold). Never the day's accounting:
    /// a daily-loss halt stays until the next UTC day.
    Reset {
        /// Also lift today's daily-loss halt; the day-loss limit then counts
        /// from the equity now (journaled, shown in status).
        #[arg(long)]
        override_day_loss: bool,
        /// Also lift a drawdown halt still at the limit; the drawdown limit
        /// then counts from a high-water mark at the equity now.
        #[arg(long)]
        override_drawdown: bool,
    },
    /// Change the control mode.
    Mode {
        /// manual | semi-auto | full-auto | emergency
        mode: String,
    },
    /// Approve an order waiting in semi-auto (its id is in `status`).
    Approve {
        /// The pending order's id.
        id: u64,
    },
    /// Decline an order waiting in semi-auto.
    Reject {
        /// The pending order's id.
        id: u64,
    },
    /// Send an operator order (market, or limit with --limit). It passes
    /// the whole veto chain like any order; in manual mode only these trade.
    Order {
        /// The symbol, e.g. BTCUSDT.
        symbol: String,
        /// buy | sell
        side: String,
        /// Quantity in base units, e.g. 0.002.
        qty: String,
        /// Limit price (else a market order).
        #[arg(long, value_name = "PRICE")]
        limit: Option<String>,
        /// Rest only: refused if it would take.
        #[arg(long, requires = "limit")]
        post_only: bool,
        /// Only reduce the position.
        #[arg(long)]
        reduce_only: bool,
    },
    /// Stop a strategy instance opening positions (`disable`: what it holds
    /// still exits by its stop, target and hold limits) or let it again
    /// (`enable`). Journaled like every command.
    Strategy {
        /// The instance's name (`name` in the config, else its kind; see
        /// the run summary).
        name: String,
        /// disable | enable
        #[arg(value_parser = ["disable", "enable"])]
        to: String,
    },
    /// Close a position with a reduce-only market order (--all: every symbol).
    Flatten {
        /// The symbol, e.g. BTCUSDT.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        symbol: Option<String>,
        /// Every symbol.
        #[arg(long)]
        all: bool,
    },
}

/// Sends `action` to the run at `run` (or `addr`; else the newest running
/// run under `runs`) and prints the answer; a refusal or a veto is
/// [`Reported`] (exit status 3).
pub fn run(
    run: Option<&Path>,
    addr: Option<SocketAddr>,
    runs: &Path,
    json: bool,
    action: CtlAction,
) -> anyhow::Result<()> {
    use autobot_tools::control::{CtlCommand, Target, ctl, newest_running};
    let run: Option<PathBuf> = match (run, addr) {
        (None, None) => Some(newest_running(runs)?),
        (r, _) => r.map(Path::to_path_buf),
    };
    let target = Target::find(run.as_deref(), addr)?;
    let cmd = match action {
        CtlAction::Status => CtlCommand::Status,
        CtlAction::Kill { flatten } => CtlCommand::Kill { flatten },
        CtlAction::Reset {
            override_day_loss,
            override_drawdown,
        } => CtlCommand::Reset {
            override_day_loss,
            override_drawdown,
        },
        CtlAction::Mode { mode } => CtlCommand::Mode(mode),
        CtlAction::Approve { id } => CtlCommand::Approve(id),
        CtlAction::Reject { id } => CtlCommand::Reject(id),
        CtlAction::Flatten { symbol, .. } => CtlCommand::Flatten(symbol),
        CtlAction::Strategy { name, to } => CtlCommand::Strategy(name, to == "enable"),
        CtlAction::Order {
            symbol,
            side,
            qty,
            limit,
            post_only,
            reduce_only,
        } => CtlCommand::Order(autobot_tools::control::OrderArgs {
            symbol,
            side,
            qty,
            price: limit,
            post_only,
            reduce_only,
        }),
    };
    let answer = ctl(&target, &cmd, json)?;
    print!("{}", answer.text);
    if answer.ok {
        Ok(())
    } else {
        Err(Reported.into())
    }
}
