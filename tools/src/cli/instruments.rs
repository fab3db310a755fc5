//! `autobot instruments`: the trading rules a config trades with and where
//! each comes from (the file, or the exchange's listing); `--refresh`
//! first fetches `GET /fapi/v1/exchangeInfo` and writes it as the listing
//! (`[exchange] listing`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use autobot_gateways::binance::exchange_info::parse_exchange_info;
use autobot_gateways::binance::rest::RestClient;
use autobot_gateways::trust::Trust;
use autobot_tools::config::AppConfig;
use autobot_tools::config::listing::RULE_KEYS as RULES;

/// Binance USD-M's public REST base, where the listing comes from unless
/// the config or `--url` names another.
pub const BINANCE_REST: &str = "https://fapi.binance.com";

/// Where the listing of the config at `path` is, read without completing
/// the config (the listing may not exist yet).
fn listing_of(path: &Path, raw: &toml::Table) -> PathBuf {
    let name = raw
        .get("exchange")
        .and_then(|e| e.get("listing"))
        .and_then(|l| l.as_str())
        .unwrap_or("exchange-info.json");
    path.parent().unwrap_or(Path::new(".")).join(name)
}

/// Fetches exchangeInfo from `url` and writes it to `to` (whole, after it
/// parses); the number of symbols and of USD-M perpetuals trading.
fn refresh(url: &str, trust: &Trust, to: &Path) -> anyhow::Result<(usize, usize)> {
    let mut rest = RestClient::with_trust(url, Duration::from_secs(20), trust);
    let body = rest
        .get("/fapi/v1/exchangeInfo", "")
        .with_context(|| format!("fetching exchangeInfo from {url}"))?
        .body;
    let mut check = body.clone();
    let info = parse_exchange_info(&mut check)
        .with_context(|| format!("exchangeInfo from {url} is not readable"))?;
    let perpetuals = info
        .symbols
        .iter()
        .filter(|s| s.contract_type == "PERPETUAL" && s.status == "TRADING")
        .count();
    // Whole or not at all: a half-written listing would fail every load.
    let tmp = to.with_extension("json.tmp");
    std::fs::write(&tmp, &body).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, to).with_context(|| format!("writing {}", to.display()))?;
    Ok((info.symbols.len(), perpetuals))
}

/// Runs the command.
pub fn run(
    config: Option<PathBuf>,
    do_refresh: bool,
    url: Option<String>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let path = config.unwrap_or_else(|| PathBuf::from("config/paper.toml"));
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read config {}", path.display()))?;
    let raw: toml::Table =
        toml::from_str(&text).with_context(|| format!("{} is not TOML", path.display()))?;
    let listing = listing_of(&path, &raw);
    if do_refresh {
        let from = url.unwrap_or_else(|| {
            raw.get("exchange")
                .and_then(|e| e.get("rest_url"))
                .and_then(|u| u.as_str())
                .filter(|u| !u.is_empty())
                .unwrap_or(BINANCE_REST)
                .to_string()
        });
        // `[exchange] ca_file`, read from the raw TOML as the listing is
        // (the config cannot load before its listing exists).
        let trust = match raw
            .get("exchange")
            .and_then(|e| e.get("ca_file"))
            .and_then(|f| f.as_str())
            .filter(|f| !f.is_empty())
        {
            Some(file) => Trust::load(&path.parent().unwrap_or(Path::new(".")).join(file))?,
            None => Trust::public(),
        };
        let (all, perpetuals) = refresh(&from, &trust, &listing)?;
        writeln!(
            out,
            "wrote {} from {from}: {all} symbols, {perpetuals} USD-M perpetuals trading",
            listing.display()
        )?;
    }
    let cfg = AppConfig::load(&path)?;
    let given: Vec<Vec<&str>> = raw
        .get("instruments")
        .and_then(|i| i.as_array())
        .map(|list| {
            list.iter()
                .map(|t| RULES.into_iter().filter(|k| t.get(k).is_some()).collect())
                .collect()
        })
        .unwrap_or_default();
    writeln!(
        out,
        "{:<12} {:>10} {:>8} {:>10} {:>8} {:>12} {:>12} {:>8}  rules from",
        "symbol", "tick", "step", "min_notl", "min_qty", "max_qty", "max_mkt_qty", "brackets"
    )?;
    for (i, ins) in cfg.instruments.iter().enumerate() {
        let from_file = given.get(i).map_or(0, Vec::len);
        let source = match from_file {
            n if n == RULES.len() => "the config".to_string(),
            0 => format!("the listing {}", listing.display()),
            _ => format!(
                "the listing {}, overridden: {}",
                listing.display(),
                given[i].join(", ")
            ),
        };
        writeln!(
            out,
            "{:<12} {:>10} {:>8} {:>10} {:>8} {:>12} {:>12} {:>8}  {source}",
            ins.symbol,
            ins.tick_size.to_string(),
            ins.step_size.to_string(),
            ins.min_notional.to_string(),
            ins.min_qty.to_string(),
            ins.max_qty.to_string(),
            ins.max_market_qty.to_string(),
            ins.brackets.len()
        )?;
    }
    Ok(())
}
