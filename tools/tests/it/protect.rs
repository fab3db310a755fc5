//! A position stays protected when the engine dies. `autobot run` trades
//! the simulator's account (testnet mode, exchange execution over
//! loopback) until a strategy position is open with its stop resting at
//! the exchange; the process is killed (SIGKILL); the price runs through
//! the stop while nothing watches, and the resting stop closes the
//! position at the exchange. `autobot run --resume` then recovers that
//! fill over REST into the journal, so the core's position is the
//! exchange's again, and the journal replays to the same digest.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use autobot_engine::core::{Core, DiscardSink};
use autobot_engine::event::{InputBody, OrderStatus, Source};
use autobot_engine::regime::Regime;
use autobot_engine::strategy::{InstanceConfig, StrategyKind};
use autobot_engine::types::{Price, Qty, Rate, Side, SymbolId};
use autobot_gateways::binance::execution::{ExecClient, ExecConfig};
use autobot_gateways::binance::sign::Signer;
use autobot_gateways::credentials::Hidden;
use autobot_gateways::sim::{SimConfig, SimExchange, SimSource};
use autobot_test_support::Scratch;
use autobot_tools::config::{AppConfig, Deployment, Endpoint, Execution};

use crate::common::{RunGuard, autobot, replays_to_the_same_digest, run_dirs};

const KEY: &str = "protect-test-key";
const SECRET: &str = "protect-test-secret";

fn shipped() -> AppConfig {
    AppConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/paper.toml")).unwrap()
}

/// The synthetic BTCUSDT market with the test's keys, streaming from the
/// start.
fn sim() -> SimExchange {
    let probe = shipped();
    let mut cfg = SimConfig::loopback(
        SimSource::Synthetic {
            config: probe.market.clone(),
            skip: 0,
            max_items: None,
        },
        probe.core().instruments[..1].to_vec(),
    );
    cfg.add_key(Hidden::new(KEY.into()), Hidden::new(SECRET.into()));
    cfg.start_on_first_client = false;
    SimExchange::start(cfg).unwrap()
}

/// A scalper whose stop is far (5%), whose own exits wait ten minutes and
/// whose target is out of reach: once in, the position stays until its
/// stop; the market's filters are opened so it gets in.
fn config(sim: &SimExchange, dir: &Path) -> PathBuf {
    let mut cfg = shipped();
    cfg.run.mode = Deployment::Testnet;
    cfg.run.run_dir = dir.join("runs").to_str().unwrap().into();
    cfg.run.duration_secs = 600;
    cfg.instruments.truncate(1);
    cfg.market.start_prices.truncate(1);
    cfg.risk.portfolio.correlated.clear();
    cfg.risk.forbidden.max_volatility_bps = Rate::parse("1000").unwrap();
    cfg.risk.forbidden.max_spread_bps = Rate::parse("1000").unwrap();
    cfg.exchange.endpoint = Endpoint::Url;
    cfg.exchange.execution = Execution::Exchange;
    cfg.exchange.ws_url = sim.ws_url();
    cfg.exchange.rest_url = sim.rest_url();
    let mut scalper = InstanceConfig::new(
        StrategyKind::Scalper,
        &[Regime::Range, Regime::Bull, Regime::Bear, Regime::HighVol],
    );
    scalper.stop_bps = Some(Rate::parse("500").unwrap());
    scalper.take_bps = Some(Rate::parse("5000").unwrap());
    scalper.max_spread_bps = Some(Rate::parse("1000").unwrap());
    scalper.min_hold_secs = Some(600);
    scalper.max_hold_secs = Some(3600);
    cfg.strategy.instances = vec![scalper];
    let path = dir.join("protect.toml");
    std::fs::write(&path, cfg.to_toml()).unwrap();
    path
}

fn hand(sim: &SimExchange) -> ExecClient {
    ExecClient::new(
        ExecConfig::new(&sim.rest_url()),
        Signer::from_parts(Hidden::new(KEY.into()), &Hidden::new(SECRET.into())),
        vec!["BTCUSDT".into()],
    )
}

fn held(c: &mut ExecClient) -> Qty {
    c.position_list()
        .unwrap()
        .into_iter()
        .find(|p| p.symbol == "BTCUSDT")
        .map_or(Qty::ZERO, |p| p.qty)
}

fn run(args: &[&str]) -> std::process::Command {
    let mut c = autobot();
    c.arg("run")
        .args(args)
        .env("AUTOBOT_API_KEY", KEY)
        .env("AUTOBOT_API_SECRET", SECRET)
        .env_remove("AUTOBOT_KEY_FILE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

#[test]
fn a_killed_runs_position_is_closed_by_its_stop_at_the_exchange_and_resume_adopts_the_fill() {
    let sim = sim();
    let h = sim.handle();
    let dir = Scratch::new("protect");
    let cfg_path = config(&sim, &dir);
    let mut child = RunGuard(Some(
        run(&["--config", cfg_path.to_str().unwrap()])
            .spawn()
            .unwrap(),
    ));
    let mut c = hand(&sim);

    // Until the strategy holds a position guarded at the exchange.
    let deadline = Instant::now() + Duration::from_secs(240);
    let (position, stop) = loop {
        let stops = c.open_algo_orders().unwrap();
        let q = held(&mut c);
        if let [s] = stops.as_slice()
            && !q.is_zero()
        {
            break (q, s.clone());
        }
        let alive = child.0.as_mut().unwrap().try_wait().unwrap().is_none();
        assert!(alive, "autobot run exited before it held a position");
        assert!(Instant::now() < deadline, "no guarded position in 240 s");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut killed = child.take();
    killed.kill().unwrap(); // SIGKILL
    killed.wait().unwrap();
    // What the run left at the exchange: the position and its stop.
    let position = {
        let q = held(&mut c);
        assert!(
            !q.is_zero(),
            "the position outlived the engine (was {position})"
        );
        q
    };
    let stops = c.open_algo_orders().unwrap();
    assert_eq!(stops.len(), 1, "{stops:?}");
    let stop = if stops[0] == stop {
        stop
    } else {
        stops[0].clone()
    };
    assert!(stop.close_position);
    assert_eq!(
        stop.side,
        if position.is_positive() {
            Side::Sell
        } else {
            Side::Buy
        }
    );
    let guard_id = stop.client_id.expect("the engine's own id");

    // The price runs through the stop with nobody watching.
    let through = if position.is_positive() {
        Price::from_raw(stop.trigger.raw() / 2)
    } else {
        Price::from_raw(stop.trigger.raw() * 2)
    };
    assert!(h.print_trade("BTCUSDT", through, Qty::parse("0.001").unwrap()));
    assert!(held(&mut c).is_zero(), "the exchange's stop closed it");
    assert!(c.open_algo_orders().unwrap().is_empty());

    // Resume: the stop's fill is recovered into the journal.
    let run_dir = run_dirs(&dir.join("runs")).into_iter().next().unwrap();
    let out = run(&["--resume", run_dir.to_str().unwrap(), "--duration", "2"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let journal = autobot_engine::runtime::read_journal(&run_dir.join("journal"))
        .unwrap()
        .events;
    let at = journal
        .iter()
        .position(|e| {
            matches!(e.body, InputBody::OrderUpdate(u)
                if u.client_id == guard_id && u.status == OrderStatus::Filled)
        })
        .expect("the stop's fill is journaled");
    let InputBody::OrderUpdate(fill) = journal[at].body else {
        unreachable!()
    };
    assert_eq!(
        journal[at].header.source,
        Source::Execution,
        "recovered over REST"
    );
    assert_eq!(fill.cum_qty, position.checked_abs().unwrap());

    // The core, fed the journal up to that fill, is flat where the
    // exchange is, and its stop order ended filled.
    let cfg = AppConfig::load(&run_dir.join("config.toml")).unwrap();
    let mut core = Core::new(&cfg.core());
    for e in &journal[..=at] {
        core.on_event(e, &mut DiscardSink);
    }
    assert!(core.position(SymbolId(0)).unwrap().qty().is_zero());
    let guard = core.order(guard_id).unwrap();
    assert_eq!(guard.filled, position.checked_abs().unwrap());
    replays_to_the_same_digest(&run_dir);
}
