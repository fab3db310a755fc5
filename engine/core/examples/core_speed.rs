//! The core alone on an imported journal: the inner loop of a backtest
//! without the exchange, for profiling the core in a build of this crate
//! only (`make bench` measures the whole backtest).
//!
//!     cargo run --release -p autobot-core --example core_speed -- CONFIG IMPORT_DIR
//!
//! The inputs are decoded into memory first; the figure is the core's
//! events/s over them, median and best of ten runs after a warm-up (this VM's
//! speed is bimodal from run to run: compare bests).

use std::time::Instant;

use autobot_core::config::{
    AccountConfig, ControlConfig, CoreConfig, InstrumentConfig, RiskConfig,
};
use autobot_core::core::Core;
use autobot_core::event::{InputEvent, OutputEvent};
use autobot_core::strategy::StrategyConfig;
use autobot_core::types::Seq;

const RUNS: usize = 10;

#[derive(serde::Deserialize)]
struct Sections {
    instruments: Vec<InstrumentConfig>,
    strategy: StrategyConfig,
    risk: RiskConfig,
    control: ControlConfig,
    account: AccountConfig,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, config, dir] = args.as_slice() else {
        eprintln!("usage: core_speed CONFIG IMPORT_DIR");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(config).expect("config");
    let s: Sections = toml::from_str(&text).expect("config sections");
    let cfg = CoreConfig::new(
        &s.instruments[..1],
        s.strategy,
        s.risk,
        s.control,
        s.account,
        false,
    );
    let journal = autobot_journal::Journal::open(&std::path::Path::new(dir).join("journal"))
        .expect("journal");
    let mut events: Vec<InputEvent> = Vec::new();
    for rec in journal.records() {
        if rec.meta.is_meta() {
            continue;
        }
        let mut ev = autobot_core::event::input_from_bytes(rec.payload).expect("decode");
        ev.header.seq = Seq(events.len() as u64);
        events.push(ev);
    }
    let mut rates = Vec::new();
    let mut outs: Vec<OutputEvent> = Vec::with_capacity(64);
    let mut emitted = 0usize;
    for run in 0..=RUNS {
        let mut core = Core::new(&cfg);
        let began = Instant::now();
        for ev in &events {
            outs.clear();
            core.on_event(ev, &mut outs);
            emitted += outs.len();
        }
        let secs = began.elapsed().as_secs_f64();
        if run > 0 {
            rates.push(events.len() as f64 / secs);
        }
        std::hint::black_box(&core);
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "core alone: median {:.2}, best {:.2} M events/s over {} inputs of {} bytes ({} outputs); runs {:?}",
        rates[rates.len() / 2] / 1e6,
        rates[rates.len() - 1] / 1e6,
        events.len(),
        std::mem::size_of::<InputEvent>(),
        emitted / (RUNS + 1),
        rates
            .iter()
            .map(|r| (r / 1e4).round() / 100.0)
            .collect::<Vec<_>>()
    );
}
