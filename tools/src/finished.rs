//! `autobot dashboard RUN_DIR`: a finished run's dashboard, read-only.
//!
//! The run's journal is replayed through a fresh core (the same inputs
//! give the same state, so the board shows exactly where the run ended);
//! its equity is sampled once a second of exchange time along the way,
//! and its last decisions and fills are kept for the Decisions and Orders
//! views.
//! The endpoint is the live run's, with no inbox: every command is refused
//! (403), the controls are hidden. Authentication is the same: the token
//! from `AUTOBOT_CONTROL_TOKEN`, else a fresh one in
//! `RUN_DIR/dashboard.token` (owner-only), removed when it stops.

use std::collections::VecDeque;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use autobot_engine::core::{Core, OutputSink};
use autobot_engine::event::InputBody;
use autobot_engine::event::OutputEvent;
use autobot_engine::runtime::notices::{
    FILL_QUEUE, Fills, Notices, RECORD_QUEUE, Stamped, is_record,
};
use autobot_engine::runtime::{CommandOutcome, StatusBoard};
use autobot_engine::types::{Seq, UnixNanos};
use autobot_gateways::control::{ControlConfig, ControlServer, DashboardInfo};
use autobot_journal::Journal;

/// The token file of a finished run's dashboard.
pub const TOKEN_FILE: &str = "dashboard.token";
/// Its address file.
pub const ADDR_FILE: &str = "dashboard.addr";

/// The last records of a replay (what the live dashboard would hold).
struct LastRecords(VecDeque<OutputEvent>);

impl OutputSink for LastRecords {
    fn emit(&mut self, out: &OutputEvent) {
        if is_record(out) {
            if self.0.len() == RECORD_QUEUE {
                self.0.pop_front();
            }
            self.0.push_back(*out);
        }
    }
}

/// Replays `dir`, serves its dashboard on `listen` until `stop`, and says
/// where on `out`.
pub fn serve(
    dir: &Path,
    listen: SocketAddr,
    stop: &AtomicBool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if dir.join(crate::control::ADDR_FILE).exists() {
        bail!(
            "{} is a running run: its own dashboard is on the address in {}",
            dir.display(),
            dir.join(crate::control::ADDR_FILE).display()
        );
    }
    let (journal_dir, cfg, _) = crate::replay::locate(dir, None)?;
    let journal = Journal::open(&journal_dir)?;
    let core_cfg = cfg.core();
    let mut core = Core::new(&core_cfg);
    let mut records = LastRecords(VecDeque::new());
    let mut samples: Vec<(u64, f64, u64)> = Vec::new();
    let mut next_ms = 0u64;
    let mut fills = VecDeque::new();
    // Event times of the inputs that produced outputs (as the live tap
    // stamps them), as many as the records can have causes.
    let mut times: VecDeque<(Seq, UnixNanos)> = VecDeque::new();
    let mut outputs = core.outputs();
    autobot_engine::replay::feed(
        &journal,
        &mut core,
        Seq(0),
        None,
        &mut records,
        |ev, core, _| {
            if let InputBody::OrderUpdate(u) = &ev.body
                && u.last_qty.is_positive()
            {
                if fills.len() == FILL_QUEUE {
                    fills.pop_front();
                }
                fills.push_back(*ev);
            }
            if core.outputs() != outputs {
                outputs = core.outputs();
                if times.len() == RECORD_QUEUE {
                    times.pop_front();
                }
                times.push_back((ev.header.seq, core.now()));
            }
            let t = core.now().0 / 1_000_000;
            // Inputs before the first market data carry no exchange time.
            if t > 0 && t >= next_ms {
                samples.push((t, core.account_view().equity.to_f64(), ev.header.seq.0));
                next_ms = t.saturating_add(1000);
            }
        },
    )
    .with_context(|| format!("replaying {}", journal_dir.display()))?;
    let board = Arc::new(StatusBoard::new(core_cfg.instruments.len()));
    board.publish(&core, &CommandOutcome::default());
    let (tx, rx) = std::sync::mpsc::sync_channel(RECORD_QUEUE);
    for r in records.0 {
        let at = times
            .binary_search_by_key(&r.cause, |(s, _)| *s)
            .map_or(UnixNanos(0), |i| times[i].1);
        // The channel holds as many as kept: never full here.
        let _ = tx.try_send(Stamped { out: r, at });
    }
    drop(tx);
    let notices = Notices {
        rx,
        dropped: Arc::new(AtomicU64::new(0)),
    };
    let (tx, rx) = std::sync::mpsc::sync_channel(FILL_QUEUE);
    for f in fills {
        let _ = tx.try_send(f);
    }
    drop(tx);
    let fills = Fills {
        rx,
        dropped: Arc::new(AtomicU64::new(0)),
    };
    let (token, written) = crate::control::endpoint_token(&dir.join(TOKEN_FILE))?;
    let mut files: Vec<_> = written.into_iter().collect();
    let reports = [
        "summary.txt",
        "latency/latency.html",
        "report.html",
        "analysis/analysis.html",
    ]
    .iter()
    .filter(|f| dir.join(f).is_file())
    .map(|f| (f.to_string(), dir.join(f).display().to_string()))
    .collect();
    let live = crate::control::endpoint_config(&cfg, listen, token, dir)?;
    let server = ControlServer::start(
        ControlConfig {
            dashboard: DashboardInfo {
                read_only: true,
                reports,
                ..live.dashboard.clone()
            },
            history: samples,
            // Only a store that is there: this run is not being projected.
            store: crate::store::history_of(dir, &cfg.store.url, false),
            ..live
        },
        None,
        board,
        (Some(notices), Some(fills)),
    )?;
    let token_at = if files.len() == 1 {
        dir.join(TOKEN_FILE).display().to_string()
    } else {
        crate::control::ENV_TOKEN.to_string()
    };
    // Its own address file: `control.addr` would say the run is running.
    let addr_path = dir.join(ADDR_FILE);
    crate::whole::write(&addr_path, format!("{}\n", server.addr()))
        .with_context(|| format!("writing {}", addr_path.display()))?;
    files.push(addr_path);
    writeln!(
        out,
        "dashboard of the finished run {} (read-only, {} inputs replayed) on {}/ — log in with the token in {token_at}; Ctrl-C stops",
        dir.display(),
        core.stats().events,
        crate::control::endpoint_url(&cfg, server.addr())
    )?;
    out.flush()?;
    while !stop.load(Ordering::Relaxed) {
        // Nothing to poll for: the endpoint runs on its own thread; this
        // thread only waits for Ctrl-C.
        std::thread::sleep(Duration::from_millis(100));
    }
    server.stop();
    for f in files {
        let _ = std::fs::remove_file(f);
    }
    Ok(())
}
