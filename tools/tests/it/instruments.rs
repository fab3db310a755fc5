//! Instruments from the exchange's listing: an `[[instruments]]` entry may
//! name only its symbol, and the rules it leaves out come from the
//! exchangeInfo snapshot beside the config (`[exchange] listing`), which
//! `autobot instruments --refresh` fetches; a symbol the listing lacks is
//! refused with what to do.

use std::path::{Path, PathBuf};

use autobot_engine::types::{Price, Qty};
use autobot_gateways::sim::{SimConfig, SimExchange, SimSource};
use autobot_test_support::Scratch;
use autobot_tools::config::AppConfig;

use autobot_tools::config::listing::RULE_KEYS as RULES;

fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../config")
        .join(name)
}

/// The shipped paper config with `symbol`'s rule lines (those in `drop`)
/// taken out, in `dir` beside a copy of the shipped listing.
fn config(dir: &Path, symbol: &str, drop: &[&str]) -> PathBuf {
    let text = std::fs::read_to_string(shipped("paper.toml")).unwrap();
    config_of(&text, dir, symbol, drop)
}

/// `text` with `symbol`'s rule lines in `drop` taken out, in `dir`.
fn config_of(text: &str, dir: &Path, symbol: &str, drop: &[&str]) -> PathBuf {
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("symbol = ") {
            inside = line == format!("symbol = \"{symbol}\"");
        } else if line.starts_with('[') {
            inside = false;
        }
        if inside && drop.iter().any(|k| line.starts_with(&format!("{k} = "))) {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    std::fs::copy(
        shipped("exchange-info.json"),
        dir.join("exchange-info.json"),
    )
    .unwrap();
    let path = dir.join("cfg.toml");
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn a_symbol_alone_takes_its_rules_from_the_listing_and_a_given_rule_overrides() {
    let dir = Scratch::new("instruments-listing");
    let full = AppConfig::load(&shipped("paper.toml")).unwrap();
    let cfg = AppConfig::load(&config(&dir, "BTCUSDT", &RULES)).unwrap();
    // The listing's BTCUSDT rules are the ones the shipped config writes out.
    assert_eq!(cfg.instruments[0], full.instruments[0]);
    assert_eq!(cfg.instruments[1], full.instruments[1]);

    let given: Vec<&str> = RULES
        .iter()
        .copied()
        .filter(|k| *k != "tick_size")
        .collect();
    let text = std::fs::read_to_string(config(&dir, "BTCUSDT", &given))
        .unwrap()
        .replace("tick_size = \"0.10\"", "tick_size = \"0.50\"");
    std::fs::write(dir.join("override.toml"), text).unwrap();
    let cfg = AppConfig::load(&dir.join("override.toml")).unwrap();
    assert_eq!(cfg.instruments[0].tick_size, Price::parse("0.5").unwrap());
    assert_eq!(
        cfg.instruments[0].max_market_qty,
        Qty::parse("120").unwrap()
    );
}

#[test]
fn a_symbol_the_listing_lacks_or_no_listing_is_refused_with_what_to_do() {
    let dir = Scratch::new("instruments-unlisted");
    let path = config(&dir, "ETHUSDT", &RULES);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("symbol = \"ETHUSDT\"", "symbol = \"FOOUSDT\"");
    std::fs::write(&path, text).unwrap();
    let e = AppConfig::load(&path).unwrap_err().to_string();
    assert!(
        e.contains("instruments[1]")
            && e.contains("FOOUSDT leaves trading rules out and is not in the listing")
            && e.contains("exchange-info.json")
            && e.contains("autobot instruments --refresh"),
        "{e}"
    );
    std::fs::remove_file(dir.join("exchange-info.json")).unwrap();
    let e = AppConfig::load(&path).unwrap_err().to_string();
    assert!(
        e.contains("the listing") && e.contains("cannot be read"),
        "{e}"
    );
}

#[test]
fn instruments_refresh_fetches_the_listing_and_shows_where_each_rule_comes_from() {
    let full = AppConfig::load(&shipped("paper.toml")).unwrap();
    let sim = SimExchange::start(SimConfig::loopback(
        SimSource::Synthetic {
            config: full.market.clone(),
            skip: 0,
            max_items: Some(0),
        },
        full.core().instruments[..1].to_vec(),
    ))
    .unwrap();
    let dir = Scratch::new("instruments-refresh");
    // Only BTCUSDT: the simulator lists no other symbol.
    let mut one = full.clone();
    one.instruments.truncate(1);
    one.market.start_prices.truncate(1);
    one.risk.portfolio.correlated.clear();
    let path = config_of(&one.to_toml(), &dir, "BTCUSDT", &RULES);
    std::fs::remove_file(dir.join("exchange-info.json")).unwrap();
    assert!(AppConfig::load(&path).is_err(), "no listing yet");

    let out = crate::common::autobot()
        .args(["instruments", "--refresh", "--url", &sim.rest_url(), "-c"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("wrote ") && text.contains("1 symbols, 1 USD-M perpetuals trading"),
        "{text}"
    );
    let row = text.lines().find(|l| l.starts_with("BTCUSDT")).unwrap();
    assert!(row.contains("the listing"), "{row}");
    let cfg = AppConfig::load(&path).unwrap();
    assert_eq!(cfg.instruments[0].tick_size, full.instruments[0].tick_size);
    assert_eq!(cfg.instruments[0].min_qty, full.instruments[0].min_qty);

    // `[exchange] ca_file` is what the fetch trusts (beside the config): a
    // file that cannot be read stops it, named, before any request.
    let mut proxied = one.clone();
    proxied.exchange.ca_file = "proxy-ca.pem".into();
    let path = config_of(&proxied.to_toml(), &dir, "BTCUSDT", &RULES);
    let out = crate::common::autobot()
        .args(["instruments", "--refresh", "--url", &sim.rest_url(), "-c"])
        .arg(&path)
        .output()
        .unwrap();
    let said = crate::common::text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("cannot read the CA file") && said.contains("proxy-ca.pem"),
        "{said}"
    );
}
