//! Configuration errors name the file, the key and the allowed range.

use std::path::{Path, PathBuf};

use autobot_engine::config::ConfigError;
use autobot_tools::config::AppConfig;

fn paper_toml() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/paper.toml"))
        .unwrap()
}

fn write(name: &str, text: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("autobot-cfg-{}-{name}.toml", std::process::id()));
    std::fs::write(&p, text).unwrap();
    p
}

fn load_err(name: &str, text: &str) -> (PathBuf, String) {
    let p = write(name, text);
    let e = AppConfig::load(&p).unwrap_err().to_string();
    std::fs::remove_file(&p).unwrap();
    (p, e)
}

#[test]
fn the_shipped_config_loads() {
    let cfg = AppConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/paper.toml"))
        .unwrap();
    assert_eq!(cfg.instruments.len(), 2);
    assert_eq!(cfg.core().instruments[0].name.as_str(), "BTCUSDT");
}

#[test]
fn unknown_key_names_file_line_and_full_key() {
    let text = paper_toml().replace("wait = \"yield\"", "wait = \"yield\"\nwiat = 3");
    let (p, e) = load_err("unknown", &text);
    assert!(e.starts_with(&format!("{}:", p.display())), "{e}");
    assert!(e.contains(": engine.wiat: unknown field `wiat`"), "{e}");
    assert!(e.contains("unknown field"), "{e}");
    let line = text.lines().position(|l| l.starts_with("wiat")).unwrap() + 1;
    assert!(e.contains(&format!(":{line}:")), "line {line}: {e}");
    assert_eq!(e.lines().count(), 1);
}

#[test]
fn unknown_top_level_table_is_named() {
    let (_, e) = load_err("toplevel", &format!("{}\n[extra]\nx = 1\n", paper_toml()));
    assert!(e.contains(": extra: unknown field `extra`"), "{e}");
}

#[test]
fn out_of_range_names_key_value_and_range() {
    let text = paper_toml().replace("ring_size = 65536", "ring_size = 1000");
    let (p, e) = load_err("range", &text);
    assert_eq!(
        e,
        format!(
            "{}: engine.ring_size = 1000 is out of range; allowed: a power of two in 64 ..= 16777216",
            p.display()
        )
    );
    let text = paper_toml().replace(
        "slow = 24\natr = 14\nstop_atr",
        "slow = 5\natr = 14\nstop_atr",
    );
    assert_ne!(text, paper_toml());
    let (_, e) = load_err("range2", &text);
    assert!(
        e.contains("strategy.instances[0].fast = 6 is out of range; allowed: 1 ..= 4"),
        "{e}"
    );
    let text = paper_toml().replace("period = 20 ", "period = 20\nimbalance = \"0.2\" ");
    assert_ne!(text, paper_toml());
    let (_, e) = load_err("range4", &text);
    assert!(
        e.contains("strategy.instances[1].imbalance = set is out of range; allowed: not a parameter of kind = \"mean_reversion\""),
        "{e}"
    );
    let text = paper_toml().replace("kind = \"scalper\"", "kind = \"scalper\"\nname = \"trend\"");
    assert_ne!(text, paper_toml());
    let (_, e) = load_err("names", &text);
    assert!(
        e.contains("strategy.instances[2].name = trend is out of range; allowed: a name no other instance has"),
        "{e}"
    );
    let text = paper_toml().replace("wide_spread_share = 0.06", "wide_spread_share = 1.5");
    let (_, e) = load_err("range3", &text);
    assert!(
        e.contains("market.wide_spread_share = 1.5 is out of range; allowed: 0 ..= 1"),
        "{e}"
    );
}

#[test]
fn a_float_price_is_refused_because_it_cannot_be_exact() {
    let text = paper_toml().replace("tick_size = \"0.10\"", "tick_size = 0.1");
    let (_, e) = load_err("float", &text);
    assert!(e.contains("instruments[0].tick_size"), "{e}");
    assert!(e.contains("write decimals as strings"), "{e}");
}

#[test]
fn an_unknown_deployment_is_refused_with_the_four_names() {
    let text = paper_toml().replacen("mode = \"paper\"", "mode = \"real\"", 1);
    let (_, e) = load_err("real", &text);
    for name in ["run.mode", "dry-run", "paper", "testnet", "live"] {
        assert!(e.contains(name), "{name} missing from: {e}");
    }
}

#[test]
fn cross_section_mismatch_is_refused() {
    let text = paper_toml().replace(
        "start_prices = [\"60000\", \"3000\"]",
        "start_prices = [\"60000\"]",
    );
    let (_, e) = load_err("prices", &text);
    assert!(
        e.contains(
            "market.start_prices = 1 prices is out of range; allowed: one per instrument (2)"
        ),
        "{e}"
    );
}

#[test]
fn missing_file_and_bad_syntax() {
    let missing = Path::new("/nonexistent/autobot.toml");
    let e = AppConfig::load(missing).unwrap_err();
    assert!(matches!(e, ConfigError::Unreadable { .. }));
    assert!(
        e.to_string()
            .starts_with("/nonexistent/autobot.toml: cannot read config:"),
        "{e}"
    );
    let (_, e) = load_err("syntax", "[run\nmode = 1");
    assert!(e.contains(":1: (syntax)"), "{e}");
    let (_, e) = load_err("missing-section", "[run]\nmode = \"paper\"\n");
    assert!(
        e.contains("run.duration_secs: missing; this key is required"),
        "{e}"
    );
}

/// A partial-book stream (`depth5/10/20`) sends whole top-N books, not
/// diffs: parsed as diffs it would corrupt the L2 book, so it is refused
/// when the config is read, as is a stream name that only starts like a
/// known one.
#[test]
fn partial_book_and_misspelt_streams_are_refused_at_load() {
    let shipped = "streams = [\"bookTicker\", \"aggTrade\"]";
    assert!(paper_toml().contains(shipped));
    for (stream, says) in [
        ("depth20@100ms", "partial-book"),
        ("depth5", "partial-book"),
        ("depth@100msX", "depth[@0ms|@100ms|@250ms|@500ms]"),
        ("markPriceFoo", "markPrice[@1s]"),
        ("kline_7m", "kline_<interval>"),
    ] {
        let text = paper_toml().replace(
            shipped,
            &format!("streams = [\"bookTicker\", \"{stream}\"]"),
        );
        let (_, e) = load_err(&format!("stream-{stream}"), &text);
        assert!(
            e.contains("exchange.streams") && e.contains(stream) && e.contains(says),
            "{stream}: {e}"
        );
    }
    for ok in [
        "depth",
        "depth@0ms",
        "depth@100ms",
        "markPrice@1s",
        "kline_1h",
        "trade",
    ] {
        let text = paper_toml().replace(shipped, &format!("streams = [\"{ok}\"]"));
        let p =
            std::env::temp_dir().join(format!("autobot-cfg-ok-{}-{ok}.toml", std::process::id()));
        std::fs::write(&p, &text).unwrap();
        let r = AppConfig::load(&p);
        std::fs::remove_file(&p).unwrap();
        assert!(r.is_ok(), "{ok}: {:?}", r.err().map(|e| e.to_string()));
    }
}

/// autobot trades USD-M perpetuals: a COIN-M or quarterly contract is
/// refused naming its contract type, before anything runs.
#[test]
fn contracts_other_than_usd_m_perpetuals_are_refused_by_type() {
    for (symbol, says) in [
        ("BTCUSD_PERP", "COIN-M perpetual"),
        ("BTCUSD_250627", "COIN-M quarterly"),
        ("BTCUSDT_250627", "USD-M quarterly"),
        ("BTCUSD", "COIN-M"),
        ("BTCEUR", "USD-M perpetuals end in USDT or USDC"),
    ] {
        let text = paper_toml().replace("symbol = \"ETHUSDT\"", &format!("symbol = \"{symbol}\""));
        let (_, e) = load_err(&format!("contract-{symbol}"), &text);
        assert!(
            e.contains("instruments[1].symbol") && e.contains(symbol) && e.contains(says),
            "{symbol}: {e}"
        );
    }
}

/// Issue 34: a value of the wrong type names file, key, what was given and
/// what the key allows (its own range, from its section's validation).
#[test]
fn a_wrong_type_says_what_was_given_and_what_is_allowed() {
    let cases = [
        (
            "mode = \"paper\"",
            "mode = 5",
            "run.mode: 5 is not allowed; allowed: one of \"dry-run\", \"paper\", \"testnet\", \"live\"",
        ),
        (
            "leverage = 3",
            "leverage = -1",
            "account.leverage: -1 is out of range; allowed: 1 ..= 125",
        ),
        (
            "events_per_sec = 20000",
            "events_per_sec = 99999999999",
            "market.events_per_sec: 99999999999 is out of range; allowed: 1 ..= 10000000",
        ),
        (
            "ring_size = 65536",
            "ring_size = 1.5",
            "engine.ring_size: 1.5 is not a whole number; allowed: a power of two in 64 ..= 16777216",
        ),
        (
            "wait = \"yield\"",
            "wait = 3",
            "engine.wait: 3 is not allowed; allowed: one of \"busy-spin\", \"yield\", \"park\"",
        ),
    ];
    for (from, to, want) in cases {
        let text = paper_toml().replacen(from, to, 1);
        assert_ne!(text, paper_toml(), "{from} not in config/paper.toml");
        let (p, e) = load_err("types", &text);
        assert!(e.starts_with(&format!("{}:", p.display())), "{e}");
        assert!(e.ends_with(want), "{to}: {e}");
    }
}

#[test]
fn an_empty_file_and_a_missing_key_are_named() {
    let (p, e) = load_err("empty", "# nothing yet\n");
    assert_eq!(
        e,
        format!(
            "{}:1: run: the file is empty; this table is required (config/paper.toml has every key)",
            p.display()
        )
    );
    let text = paper_toml().replacen("duration_secs = 20", "", 1);
    let (_, e) = load_err("missing", &text);
    assert!(
        e.ends_with("run.duration_secs: missing; this key is required"),
        "{e}"
    );
}

#[test]
fn a_ca_file_is_found_beside_the_config_and_a_bad_one_is_refused_by_its_reason() {
    use autobot_test_support::Scratch;
    use autobot_test_support::tls::Authority;
    let dir = Scratch::new("cfg-ca-file");
    let text = paper_toml().replacen(
        "\nlisting = ",
        "\nca_file = \"proxy-ca.pem\"   # the proxy's CA\nlisting = ",
        1,
    );
    assert!(
        text.contains("ca_file"),
        "paper.toml has no [exchange] listing line"
    );
    let config = dir.join("run.toml");
    std::fs::write(&config, &text).unwrap();
    let ca_file = dir.join("proxy-ca.pem");
    Authority::new("a proxy's CA").write_ca(&ca_file);

    // Relative to the config's directory, made absolute for the run
    // directory's copy of the config.
    let cfg = AppConfig::load(&config).unwrap();
    assert_eq!(Path::new(&cfg.exchange.ca_file), ca_file);
    let trust = cfg.exchange.trust().unwrap();
    assert_eq!(trust.ca_file(), Some(ca_file.as_path()));
    assert!(cfg.to_toml().contains(&ca_file.display().to_string()));

    // The config loads without the file (a replay on another host reads
    // the run's copy); the roots are read when a run connects, and a file
    // that is not certificates is refused then by its name and reason.
    std::fs::write(
        &ca_file,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let cfg = AppConfig::load(&config).unwrap();
    let e = cfg.exchange.trust().unwrap_err().to_string();
    assert!(e.contains("proxy-ca.pem"), "{e}");
    assert!(e.contains("no CERTIFICATE block"), "{e}");
    std::fs::remove_file(&ca_file).unwrap();
    let cfg = AppConfig::load(&config).unwrap();
    let e = cfg.exchange.trust().unwrap_err().to_string();
    assert!(e.contains("cannot read the CA file"), "{e}");
}
