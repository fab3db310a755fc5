//! The load generator: the whole pipeline (simulator → WebSocket →
//! market gateway → ring → journal → core → orders) driven at fixed
//! message rates for a bounded time, one paper run per rate.
//!
//! # Coordinated omission
//! The simulator sends message *i* at its intended time `t₀ + i / rate`
//! whatever happened before (a late thread catches up; the schedule never
//! slips), and stamps that intended time in front of the frame. The market
//! gateway takes it as the events' `recv`, so `parse`, `tick_to_decision`
//! and `tick_to_order` are measured from when the message was *due*: a
//! stall anywhere (sender, socket, gateway, ring, journal, core) shows in
//! every message it delayed, instead of in one. `publish`, `journal`,
//! `dispatch`, `decide` and `publish_to_decision` do not depend on `recv`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use autobot_engine::runtime::latency::Stage;

use crate::config::{AppConfig, Endpoint};
use crate::latency::{Distribution, distributions, table};
use crate::run::{RunError, RunOptions, run_paper};

/// What one rate did.
#[derive(Clone, Debug)]
pub struct RateReport {
    /// Messages per second asked for.
    pub rate: u32,
    /// Market messages sent (the same as processed: the run ends when
    /// the core has all of them).
    pub messages: u64,
    /// Wall time of the market data, from starting the gateway to its end
    /// (the rate achieved is over this).
    pub elapsed: Duration,
    /// Wall time of the whole run, start (journal, core) and stop included.
    pub wall: Duration,
    /// Orders the core sent.
    pub orders: u64,
    /// Per-stage distributions.
    pub stages: Vec<(Stage, Distribution)>,
    /// The run directory (journal, `latency/*.hgrm`).
    pub run_dir: std::path::PathBuf,
    /// Where the threads were placed.
    pub placement: String,
}

impl RateReport {
    /// Messages per second achieved.
    pub fn achieved(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The value (ns) of `stage` at quantile `q`, if recorded.
    pub fn at(&self, stage: Stage, q: f64) -> Option<f64> {
        self.stages
            .iter()
            .find(|(s, _)| *s == stage)
            .map(|(_, d)| d.value_at(q))
    }

    /// The report of this rate: rate asked and achieved, placement, table.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "rate {} msgs/s: {} messages in {:.2} s ({:.0} msgs/s achieved; {:.2} s with start and stop), {} orders; {}",
            self.rate,
            self.messages,
            self.elapsed.as_secs_f64(),
            self.achieved(),
            self.wall.as_secs_f64(),
            self.orders,
            self.placement
        );
        s.push_str(
            "(\"socket read\" below is each message's intended send time: coordinated-omission corrected)\n",
        );
        s.push_str(&table(&[(String::new(), self.stages.clone())]));
        s
    }
}

/// How the config places the threads, in words.
pub fn placement(cfg: &AppConfig, housekeeping: Option<usize>) -> String {
    let c = cfg.engine.cpus;
    let show = |x: Option<usize>| x.map_or("unpinned".to_string(), |c| format!("CPU {c}"));
    format!(
        "core {}, market gateway {}, execution {}, journal {}; layout {:?}, wait {:?}; \
         simulator and other threads {}",
        show(c.core),
        show(c.market),
        show(c.execution),
        match cfg.engine.layout {
            autobot_engine::config::Layout::Inline => "on the core thread".to_string(),
            autobot_engine::config::Layout::Dedicated => show(c.journal),
        },
        cfg.engine.layout,
        cfg.engine.wait,
        housekeeping.map_or("unpinned".to_string(), |h| format!("on CPU {h}")),
    )
}

/// Where the threads of a load run go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    /// The core thread's CPU (overrides `[engine.cpus] core`).
    pub core: Option<usize>,
    /// Every other thread's CPU: the run is started from a thread bound
    /// here, and threads inherit their creator's CPU set, so the
    /// simulator, gateways and execution share it and leave the core's
    /// CPU to the core alone.
    pub housekeeping: Option<usize>,
}

/// Runs `cfg` at `rate` messages per second for `secs` seconds, with the
/// built-in simulator (synthetic market) and runs under `run_dir`.
pub fn run_rate(
    cfg: &AppConfig,
    rate: u32,
    secs: f64,
    run_dir: &Path,
    place: Placement,
) -> Result<RateReport, RunError> {
    let mut cfg = cfg.clone();
    if let Some(core) = place.core {
        cfg.engine.cpus.core = Some(core);
    }
    // A shadow core replaying the journal would compete for the CPUs.
    cfg.journal.snapshot_every = 0;
    cfg.exchange.endpoint = Endpoint::Simulator;
    cfg.exchange.simulator_source = "synthetic".into();
    cfg.market.events_per_sec = rate;
    cfg.run.run_dir = run_dir.to_string_lossy().into_owned();
    // No endpoints to serve and no periodic files: nothing else on the CPUs.
    cfg.operator.listen.clear();
    cfg.metrics.listen.clear();
    cfg.metrics.latency_every_secs = 0;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let messages = ((f64::from(rate) * secs).round() as u64).max(1);
    let opts = RunOptions {
        max_events: Some(messages),
        load: true,
        ..RunOptions::default()
    };
    let out = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                if let Some(cpu) = place.housekeeping
                    && !core_affinity::set_for_current(core_affinity::CoreId { id: cpu })
                {
                    eprintln!("loadtest: could not bind to CPU {cpu}; threads unplaced");
                }
                run_paper(&cfg, &opts)
            })
            .join()
            .map_err(|_| RunError::Gateway("load test"))?
    })?;
    Ok(RateReport {
        rate,
        messages: out.market.events,
        elapsed: out.market_elapsed,
        wall: out.elapsed,
        orders: out.pipeline.core.core.stats().orders,
        stages: distributions(&out.latency),
        run_dir: out.run_dir,
        placement: placement(&cfg, place.housekeeping),
    })
}
