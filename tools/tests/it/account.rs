//! A run against an exchange account (`endpoint = "url"`, exchange
//! execution, `run.mode = "live"`) over real loopback sockets, with the
//! simulator standing in for the exchange: the account already holds a
//! position and an open order the run did not place.
//!
//! - With `foreign_orders = "refuse"` the run stops before anything starts
//!   and names the order.
//! - With `"cancel"` the order is cancelled, the position and wallet go
//!   into the journal as a snapshot the core adopts, the core trades on
//!   from there, and at the end its position equals the exchange's; the
//!   journal replays to the same digest.

use std::path::Path;
use std::time::{Duration, Instant};

use autobot_engine::event::{AccountReason, InputBody, OrderKind};
use autobot_engine::types::{ClientOrderId, Money, Price, Qty, Side, SymbolId};
use autobot_gateways::binance::execution::{ExecClient, ExecConfig};
use autobot_gateways::binance::sign::Signer;
use autobot_gateways::credentials::{Credentials, Hidden, KeySource};
use autobot_gateways::sim::{SimConfig, SimExchange, SimSource};
use autobot_test_support::Scratch;
use autobot_tools::config::{AppConfig, Deployment, Endpoint, Execution, ForeignOrders};
use autobot_tools::run::{RunOptions, run_paper};

const KEY: &str = "account-test-key";
const SECRET: &str = "account-test-secret";

fn keys() -> (Hidden, Hidden) {
    (Hidden::new(KEY.into()), Hidden::new(SECRET.into()))
}

/// The shipped config trading BTCUSDT live on the simulator's account; its
/// runs go when the returned [`Scratch`] is dropped.
fn config(sim: &SimExchange, name: &str) -> (AppConfig, Scratch) {
    let mut cfg =
        AppConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/paper.toml"))
            .unwrap();
    let dir = Scratch::new(&format!("account-{name}"));
    cfg.run.run_dir = dir.join("runs").to_str().unwrap().into();
    cfg.run.mode = Deployment::Live;
    cfg.run.duration_secs = 2;
    cfg.instruments.truncate(1);
    cfg.market.start_prices.truncate(1);
    cfg.risk.portfolio.correlated.clear();
    cfg.exchange.endpoint = Endpoint::Url;
    cfg.exchange.execution = Execution::Exchange;
    cfg.exchange.ws_url = sim.ws_url();
    cfg.exchange.rest_url = sim.rest_url();
    (cfg, dir)
}

/// The simulator's endless synthetic BTCUSDT market, with the test's keys,
/// streaming from the start.
fn account_sim() -> SimExchange {
    account_sim_with(Vec::new())
}

/// [`account_sim`] whose account has these maintenance brackets.
fn account_sim_with(brackets: Vec<autobot_engine::types::Brackets>) -> SimExchange {
    account_sim_over(brackets, None)
}

/// [`account_sim_with`], its WebSocket port under TLS with `tls`.
fn account_sim_over(
    brackets: Vec<autobot_engine::types::Brackets>,
    tls: Option<autobot_gateways::http::TlsIdentity>,
) -> SimExchange {
    let probe =
        AppConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/paper.toml"))
            .unwrap();
    let mut sim_cfg = SimConfig::loopback(
        SimSource::Synthetic {
            config: probe.market.clone(),
            skip: 0,
            max_items: None,
        },
        probe.core().instruments[..1].to_vec(),
    );
    sim_cfg.start_on_first_client = false;
    sim_cfg.account.brackets = brackets;
    sim_cfg.tls = tls;
    let (key, secret) = keys();
    sim_cfg.add_key(key, secret);
    SimExchange::start(sim_cfg).unwrap()
}

fn options() -> RunOptions {
    let (api_key, api_secret) = keys();
    RunOptions {
        credentials: Some(Credentials {
            api_key,
            api_secret,
            source: KeySource::Environment,
        }),
        ..RunOptions::default()
    }
}

fn order(id: u64, side: Side, kind: OrderKind, price: &str) -> autobot_engine::event::NewOrder {
    autobot_engine::event::NewOrder {
        client_id: ClientOrderId(id),
        symbol: SymbolId(0),
        side,
        kind,
        reduce_only: false,
        post_only: kind == OrderKind::Limit,
        price: Price::parse(price).unwrap(),
        qty: Qty::parse("0.01").unwrap(),
    }
}

#[test]
fn a_live_run_adopts_the_accounts_position_and_refuses_or_cancels_foreign_orders() {
    let sim = account_sim();

    // Someone trades the account by hand before the run: a long position,
    // and a bid resting far below the market.
    let (k, s) = keys();
    let mut hand = ExecClient::new(
        ExecConfig::new(&sim.rest_url()),
        Signer::from_parts(k, &s),
        vec!["BTCUSDT".into()],
    );
    // The market order needs a book to fill against: the first snapshot.
    // A generous budget (it is polled, so it costs nothing when the book
    // is there): on a loaded 2-core CI machine 30 s once ran out.
    let deadline = Instant::now() + Duration::from_secs(120);
    // Its market first, from its own counters (free): placing the order at
    // every turn until a book exists spent the order-count limit on a slow
    // start, and RateLimited then outlasted the budget (seen once on a
    // loaded machine).
    let feed = sim.handle();
    while feed
        .stats()
        .items
        .load(std::sync::atomic::Ordering::Relaxed)
        < 10
    {
        assert!(Instant::now() < deadline, "the simulator streamed nothing");
        std::thread::yield_now();
    }
    while let Err(e) = hand.place(&order(1, Side::Buy, OrderKind::Market, "0")) {
        assert!(
            Instant::now() < deadline,
            "the simulator's book never filled; the last refusal: {e:?}"
        );
        std::thread::yield_now();
    }
    // 3% below the mark: inside PERCENT_PRICE, as Binance requires.
    let bid = sim
        .handle()
        .resting_bid("BTCUSDT", 0.97)
        .unwrap()
        .to_string();
    hand.place(&order(2, Side::Buy, OrderKind::Limit, &bid))
        .unwrap();
    // And a stop guarding the position, at the Algo Order API (as another
    // run, killed, would leave it).
    let stop = autobot_engine::event::NewOrder {
        reduce_only: true,
        post_only: false,
        ..order(3, Side::Sell, OrderKind::StopMarket, "1000")
    };
    hand.place(&stop).unwrap();
    assert_eq!(hand.open_algo_orders().unwrap().len(), 1);

    let (mut cfg, _dir) = config(&sim, "refuse");
    cfg.exchange.foreign_orders = ForeignOrders::Refuse;
    let err = run_paper(&cfg, &options()).unwrap_err().to_string();
    assert!(
        err.contains("the account has open orders this run does not hold: BTCUSDT"),
        "{err}"
    );
    assert!(err.contains("BTCUSDT ab3 (conditional order "), "{err}");
    assert!(err.contains("foreign_orders = \"cancel\""), "{err}");
    assert!(
        !Path::new(&cfg.run.run_dir).exists(),
        "no run directory for a refused run"
    );

    let (mut cfg, _dir) = config(&sim, "cancel");
    cfg.exchange.foreign_orders = ForeignOrders::Cancel;
    let out = run_paper(&cfg, &options()).unwrap();
    let r = out.reconciled.as_ref().expect("the account was read");
    assert_eq!(r.cancelled.len(), 2, "the bid and the stop: {r:?}");
    assert_eq!(
        r.positions,
        [("BTCUSDT".to_string(), Qty::parse("0.01").unwrap())]
    );
    let w = out.pipeline.warnings.join("\n");
    assert!(w.contains("cancelled open order"), "{w}");
    assert!(
        hand.open_orders().unwrap().is_empty(),
        "the foreign bid is gone from the book"
    );
    // The run's own strategy may guard a position of its own by now; the
    // foreign stop is gone.
    assert!(
        hand.open_algo_orders()
            .unwrap()
            .iter()
            .all(|s| s.client != "ab3"),
        "the foreign stop is gone"
    );

    // The snapshot is journaled, before any market data, and adopted.
    let journal = autobot_engine::runtime::read_journal(&out.run_dir.join("journal"))
        .unwrap()
        .events;
    let first_market = journal
        .iter()
        .position(|e| matches!(e.body, InputBody::BookTicker(_) | InputBody::AggTrade(_)))
        .unwrap();
    let snapshot = journal
        .iter()
        .position(|e| {
            matches!(e.body, InputBody::AccountUpdate(a)
                if a.reason == AccountReason::Snapshot && a.position_qty == Qty::parse("0.01").unwrap())
        })
        .expect("the snapshot is in the journal");
    assert!(snapshot < first_market);
    let core = &out.pipeline.core.core;
    assert_eq!(
        core.account().start(),
        r.wallet,
        "the core starts from the real wallet"
    );
    assert!(
        r.wallet < Money::parse("100000").unwrap(),
        "the hand trade paid a fee"
    );

    // Whatever the core traded from there, it ends where the exchange is.
    let x = out.exchange.as_ref().unwrap();
    let held = core.position(SymbolId(0)).unwrap().qty();
    assert_eq!(
        x.positions.as_ref().unwrap(),
        &[("BTCUSDT".to_string(), held)],
        "core {:?}\nexec {:?}\nuser {:?}\nwarnings {w}",
        core.stats(),
        x.exec,
        x.user
    );
    crate::common::replays_to_the_same_digest(&out.run_dir);
}

/// Periodic reconciliation: someone trades the account by hand while the
/// run is up. The user stream calls that order foreign (it is), so the
/// core's position stays; the exchange's differs, which the reconciliation
/// reads journal, and the core holds SAFE_MODE (`on_drift`) with a
/// `PositionDrift` alert; the wallet the hand's fee moved is alerted
/// (`BalanceMismatch`).
#[test]
fn a_position_changed_behind_the_runs_back_is_found_and_holds_safe_mode() {
    let sim = account_sim();
    let h = sim.handle();
    let (mut cfg, _dir) = config(&sim, "drift");
    cfg.run.duration_secs = 5;
    cfg.exchange.reconcile_every_secs = 1;
    // Manual: the strategies send nothing, so the only trade is the hand's.
    cfg.control.mode = autobot_engine::config::StartMode::Manual;
    let runner = std::thread::spawn(move || run_paper(&cfg, &options()));
    // Once the run's market and user streams are up, trade by hand.
    let deadline = Instant::now() + Duration::from_secs(60);
    while h
        .stats()
        .connections
        .load(std::sync::atomic::Ordering::Relaxed)
        < 2
    {
        assert!(Instant::now() < deadline, "the run never connected");
        std::thread::yield_now();
    }
    let (k, s) = keys();
    let mut hand = ExecClient::new(
        ExecConfig::new(&sim.rest_url()),
        Signer::from_parts(k, &s),
        vec!["BTCUSDT".into()],
    );
    while let Err(e) = hand.place(&order(7, Side::Buy, OrderKind::Market, "0")) {
        assert!(
            Instant::now() < deadline,
            "the hand order never filled: {e:?}"
        );
        std::thread::yield_now();
    }
    let out = runner.join().unwrap().unwrap();
    let core = &out.pipeline.core.core;
    assert!(
        core.position(SymbolId(0)).unwrap().qty().is_zero(),
        "never adopted"
    );
    assert_eq!(core.conditions().drifting, 1, "{:?}", core.conditions());
    let journal = autobot_engine::runtime::read_journal(&out.run_dir.join("journal"))
        .unwrap()
        .events;
    let reads: Vec<Qty> = journal
        .iter()
        .filter_map(|e| match e.body {
            InputBody::AccountUpdate(a) if a.reason == AccountReason::Reconcile => {
                Some(a.position_qty)
            }
            _ => None,
        })
        .collect();
    assert!(reads.len() >= 2, "{reads:?}");
    assert_eq!(reads.last(), Some(&Qty::parse("0.01").unwrap()));
    // The wallet is read too: the hand trade's fee left it below the
    // core's, which is alerted once (and holds nothing more).
    let wallets: Vec<Money> = journal
        .iter()
        .filter_map(|e| match e.body {
            InputBody::AccountUpdate(a) if a.reason == AccountReason::Reconcile => {
                Some(a.wallet_balance)
            }
            _ => None,
        })
        .collect();
    let last = *wallets.last().unwrap();
    assert!(last < core.account().balance(), "{wallets:?}");
    let run_cfg = AppConfig::load(&out.run_dir.join("config.toml")).unwrap();
    let mut replayed = autobot_engine::core::Core::new(&run_cfg.core());
    let mut outs = Vec::new();
    for e in &journal {
        replayed.on_event(e, &mut outs);
    }
    let mismatches: Vec<i64> = outs
        .iter()
        .filter_map(|o| match o.body {
            autobot_engine::event::OutputBody::Alert(a)
                if a.code == autobot_engine::event::AlertCode::BalanceMismatch =>
            {
                Some(a.value)
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        mismatches,
        [last.raw()],
        "alerted once, the exchange's balance"
    );
    crate::common::replays_to_the_same_digest(&out.run_dir);
}

/// The account's maintenance brackets (`GET /fapi/v1/leverageBracket`)
/// replace the config's at start, named in a warning and recorded in the
/// run's config.toml; an exchange that lists none leaves the config's.
#[test]
fn the_accounts_maintenance_brackets_replace_the_configs() {
    use autobot_engine::types::{Bracket, Brackets, Rate};
    let tier = |cap: &str, mmr: &str, cum: &str| Bracket {
        cap: Money::parse(cap).unwrap(),
        mmr: Rate::parse(mmr).unwrap(),
        cum: Money::parse(cum).unwrap(),
    };
    let table =
        Brackets::new(&[tier("10000", "0.01", "0"), tier("100000", "0.02", "100")]).unwrap();
    let sim = account_sim_with(vec![table]);
    let (mut cfg, _dir) = config(&sim, "brackets");
    cfg.run.duration_secs = 1;
    cfg.control.mode = autobot_engine::config::StartMode::Manual;
    let configured = cfg.instruments[0].brackets.len();
    let out = run_paper(&cfg, &options()).unwrap();
    let w = out.pipeline.warnings.join("\n");
    assert!(
        w.contains(&format!(
            "BTCUSDT: maintenance brackets: the exchange's 2 tiers replace the config's {configured}"
        )),
        "{w}"
    );
    let recorded = AppConfig::load(&out.run_dir.join("config.toml")).unwrap();
    assert_eq!(recorded.instruments[0].brackets.len(), 2);
    assert_eq!(
        recorded.core().brackets[0].as_slice(),
        table.as_slice(),
        "the margin model runs on the exchange's table"
    );

    // The plain simulator lists none: the config's stay, with a warning.
    let bare = account_sim();
    let (mut cfg, _dir) = config(&bare, "no-brackets");
    cfg.run.duration_secs = 1;
    cfg.control.mode = autobot_engine::config::StartMode::Manual;
    let out = run_paper(&cfg, &options()).unwrap();
    let w = out.pipeline.warnings.join("\n");
    assert!(
        w.contains("BTCUSDT: the exchange lists no maintenance brackets; the config's are kept"),
        "{w}"
    );
}

/// Testnet's and live's path: the market and user-data streams over
/// `wss://`, checked against `[exchange] ca_file` (the simulator's
/// certificate is signed by a CA of the test's own, as a TLS-inspecting
/// proxy's would be). The run trades over it; without the CA file the
/// public roots refuse the simulator and the run says it got no market.
#[test]
fn a_live_run_streams_over_wss_trusting_the_ca_file() {
    use autobot_test_support::tls::Authority;
    let certs = Scratch::new("account-wss-certs");
    let (ca, ca_file) = Authority::beside(certs.path());
    let (crt, key) = ca.server(certs.path(), "sim");
    let identity = autobot_gateways::http::TlsIdentity::load(&crt, &key).unwrap();
    let sim = account_sim_over(Vec::new(), Some(identity));
    assert!(sim.ws_url().starts_with("wss://"));

    // A CA file that is not certificates stops the run before it starts.
    let (mut cfg, _dir) = config(&sim, "wss-bad-ca");
    let junk = certs.join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    cfg.exchange.ca_file = junk.to_str().unwrap().into();
    let err = run_paper(&cfg, &options()).unwrap_err().to_string();
    assert!(
        err.starts_with("[exchange]: the CA file ") && err.contains("junk.pem"),
        "{err}"
    );
    assert!(!Path::new(&cfg.run.run_dir).exists(), "no run directory");

    let (mut cfg, _dir) = config(&sim, "wss");
    cfg.exchange.ca_file = ca_file.to_str().unwrap().into();
    let out = run_paper(&cfg, &options()).unwrap();
    let g = out.market.gateway.as_ref().unwrap();
    assert!(g.connects >= 1 && g.events > 0, "{g:?}");
    assert_eq!(g.connect_failures, 0, "{g:?}");
    let x = out.exchange.as_ref().unwrap();
    let user = &x.user;
    assert!(
        user.connects.load(std::sync::atomic::Ordering::Relaxed) >= 1,
        "{user:?}"
    );
    assert_eq!(
        user.connect_failures
            .load(std::sync::atomic::Ordering::Relaxed),
        0,
        "{user:?}"
    );
    crate::common::replays_to_the_same_digest(&out.run_dir);

    // A fresh account (the run above may have left a stop of its own).
    let (crt, key) = ca.server(certs.path(), "sim2");
    let identity = autobot_gateways::http::TlsIdentity::load(&crt, &key).unwrap();
    let sim = account_sim_over(Vec::new(), Some(identity));
    let (mut cfg, _dir) = config(&sim, "wss-public-roots");
    cfg.run.duration_secs = 1;
    let err = run_paper(&cfg, &options()).unwrap_err().to_string();
    assert!(err.contains("traded nothing"), "{err}");
    assert!(
        err.contains("connection attempts failed, the last: "),
        "{err}"
    );
    assert!(
        err.contains("invalid peer certificate: UnknownIssuer"),
        "{err}"
    );
}
