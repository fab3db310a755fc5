//! Parity: the shared BTCUSDT tick capture gives the same fills, field by
//! field and in the same order, whether the core trades it in
//! `autobot backtest` or through `autobot simexchange` over loopback.
//!
//! The second path uses every real part between the engine and the
//! simulator: the simulator streams the capture over WebSocket, the
//! gateway's parser reads it, the core decides, the signed REST client
//! places its orders, the simulator matches them and answers on the
//! user-data stream, and the gateway's user-stream parser turns that back
//! into the core's inputs. Both sides use zero latency. The simulator runs
//! in lockstep (one feed item per permit) and this test answers each item
//! completely before it lets the next one go, which is what makes the two
//! comparable: in a threaded run the market would move on while an order
//! is on its way.

use autobot_test_support::Scratch;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};

use autobot_engine::core::Core;
use autobot_engine::event::{InputBody, InputEvent, Liquidity, OutputBody, OutputEvent};
use autobot_engine::types::{Money, MonoNanos, Price, Qty, Seq, Side};
use autobot_gateways::binance::execution::{ExecClient, ExecConfig};
use autobot_gateways::binance::parse::{Parser, Symbols};
use autobot_gateways::binance::sign::Signer;
use autobot_gateways::binance::user::parse_user;
use autobot_gateways::credentials::Hidden;
use autobot_gateways::sim::{SimConfig, SimExchange, SimSource};
use autobot_tools::backtest::run::{DataSource, run_backtest};
use autobot_tools::config::AppConfig;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// Lines of the capture taken: every book ticker and trade, in capture order.
const LINES: usize = 87_402;

type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

/// One fill as the core received it: (exchange ms, side, price, qty, fee,
/// maker or taker).
type Fill = (u64, Side, Price, Qty, Money, Liquidity);

fn shared_capture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/ticks/btcusdt_20240808.gz")
}

/// The first [`LINES`] book-ticker and trade lines of the capture, as a
/// plain capture file. (Depth is left out: the simulator serves its
/// snapshot over REST, while a backtest meets it in the file.)
fn prefix(dir: &Path) -> PathBuf {
    let gz = std::fs::File::open(shared_capture()).expect("the shared capture");
    let lines = BufReader::new(flate2::read::GzDecoder::new(gz)).lines();
    let path = dir.join("btcusdt_prefix.txt");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let kept = lines
        .map(Result::unwrap)
        .filter(|l| l.contains("@bookTicker\"") || l.contains("@trade\""))
        .take(LINES);
    for l in kept {
        writeln!(out, "{l}").unwrap();
    }
    out.flush().unwrap();
    path
}

fn config() -> AppConfig {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/bench-emaflip.toml");
    let mut cfg = AppConfig::load(&path).unwrap();
    cfg.paper.latency_ms = 0;
    cfg
}

/// The simulator's side of the parity run: its feed, the market and user
/// streams, and the signed REST client.
struct Venue {
    sim: SimExchange,
    market: Ws,
    user: Ws,
    exec: ExecClient,
    parser: Parser,
    symbols: Symbols,
}

impl Venue {
    fn start(cfg: &AppConfig, core: &autobot_engine::config::CoreConfig, capture: &Path) -> Venue {
        let (key, secret) = ("parity-key".to_string(), "parity-secret".to_string());
        let mut sim_cfg = SimConfig::loopback(
            SimSource::Capture(capture.to_path_buf()),
            core.instruments.clone(),
        );
        sim_cfg.speed = 0.0;
        sim_cfg.lockstep = true;
        sim_cfg.ping_every = std::time::Duration::from_secs(3600);
        sim_cfg.account = cfg.simulated_account();
        sim_cfg.add_key(Hidden::new(key.clone()), Hidden::new(secret.clone()));
        let sim = SimExchange::start(sim_cfg).unwrap();
        let names: Vec<String> = core
            .instruments
            .iter()
            .map(|i| i.name.to_string())
            .collect();
        let streams = "btcusdt@bookTicker/btcusdt@trade";
        let (market, _) =
            tungstenite::connect(format!("{}/stream?streams={streams}", sim.ws_url())).unwrap();
        let body = ureq::post(format!("{}/fapi/v1/listenKey", sim.rest_url()))
            .header("X-MBX-APIKEY", &key)
            .send_empty()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        let listen: serde_json::Value = serde_json::from_str(&body).unwrap();
        let listen_key = listen["listenKey"].as_str().unwrap();
        let (user, _) = tungstenite::connect(format!("{}/ws/{listen_key}", sim.ws_url())).unwrap();
        let signer = Signer::from_parts(Hidden::new(key), &Hidden::new(secret));
        let exec = ExecClient::new(ExecConfig::new(&sim.rest_url()), signer, names.clone());
        Venue {
            sim,
            market,
            user,
            exec,
            parser: Parser::new(Symbols::new(&names)),
            symbols: Symbols::new(&names),
        }
    }

    /// Lets one feed item go and returns the market events it carried.
    fn next_market(&mut self) -> Vec<InputEvent> {
        self.sim.handle().release(1);
        loop {
            match self.market.read().unwrap() {
                Message::Text(t) => {
                    let mut bytes = t.as_bytes().to_vec();
                    let mut evs = Vec::new();
                    self.parser
                        .parse(&mut bytes, MonoNanos(1), None, |e| evs.push(e))
                        .unwrap();
                    return evs;
                }
                Message::Close(_) => panic!("the simulator closed the market stream"),
                _ => {}
            }
        }
    }

    /// Sends one output of the core; the reports it gets go to `reports`.
    fn send(&mut self, out: &OutputEvent, reports: &mut VecDeque<InputEvent>) {
        let OutputBody::NewOrder(o) = out.body else {
            assert!(
                !matches!(out.body, OutputBody::Cancel(_)),
                "this config sends no cancels"
            );
            return;
        };
        assert_eq!(
            o.kind,
            autobot_engine::event::OrderKind::Market,
            "the parity config trades market orders (their reports end with FILLED)"
        );
        if let Err(refused) = self.exec.place(&o) {
            let ev = InputEvent::new(
                autobot_engine::event::Source::Execution,
                o.symbol,
                MonoNanos(1),
                autobot_engine::types::UnixNanos(0),
                InputBody::OrderRejected(refused),
            );
            reports.push_back(ev);
            return;
        }
        // The simulator writes an order's user-data events before its REST
        // reply: read them up to the one that ends the order.
        loop {
            let Message::Text(t) = self.user.read().unwrap() else {
                continue;
            };
            let mut bytes = t.as_bytes().to_vec();
            let mut evs = Vec::new();
            parse_user(&mut bytes, &self.symbols, "USDT", MonoNanos(1), &mut evs).unwrap();
            let mut done = false;
            for ev in evs {
                // Account updates restate what the fills already told the
                // core; a backtest has none, so they are left out here.
                if let InputBody::OrderUpdate(u) = ev.body {
                    done |= u.client_id == o.client_id
                        && matches!(
                            u.status,
                            autobot_engine::event::OrderStatus::Filled
                                | autobot_engine::event::OrderStatus::Expired
                        );
                    reports.push_back(ev);
                }
            }
            if done {
                return;
            }
        }
    }
}

/// Feeds `ev` and every report it leads to through the core.
fn step(core: &mut Core, seq: &mut u64, venue: &mut Venue, ev: InputEvent, fills: &mut Vec<Fill>) {
    let mut queue = VecDeque::from([ev]);
    let mut outs = Vec::new();
    while let Some(mut ev) = queue.pop_front() {
        ev.header.seq = Seq(*seq);
        *seq += 1;
        if let InputBody::OrderUpdate(u) = ev.body
            && u.last_qty.is_positive()
        {
            let ms = ev.header.exchange.0 / 1_000_000;
            fills.push((ms, u.side, u.last_price, u.last_qty, u.fee, u.liquidity));
        }
        outs.clear();
        core.on_event(&ev, &mut outs);
        for o in &outs {
            venue.send(o, &mut queue);
        }
    }
}

#[test]
fn the_capture_fills_the_same_in_a_backtest_and_through_the_simulator() {
    let scratch = Scratch::new("parity");
    let dir = scratch.path().to_path_buf();
    let capture = prefix(&dir);
    let cfg = config();

    let done = run_backtest(&cfg, &DataSource::Files(vec![capture.clone()]), None, false).unwrap();
    let want: Vec<Fill> = done
        .backtest
        .recorder
        .fills
        .iter()
        .map(|f| (f.time_ms, f.side, f.price, f.qty, f.fee, f.liquidity))
        .collect();
    assert!(
        want.len() >= 20,
        "the capture prefix should trade: {} fills",
        want.len()
    );

    let mut venue = Venue::start(&cfg, &done.core, &capture);
    let mut core = Core::new(&done.core);
    let (mut seq, mut got) = (0u64, Vec::new());
    for _ in 0..LINES {
        for ev in venue.next_market() {
            step(&mut core, &mut seq, &mut venue, ev, &mut got);
        }
    }
    assert_eq!(got.len(), want.len(), "fill counts");
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "fill {k}: (ms, side, price, qty, fee, liquidity)");
    }
    eprintln!("parity: {} fills, each field equal", want.len());
}
