//! Binance's real maintenance-margin brackets (`shared/data/binance/rest/
//! leverage_tiers.json`, every USD-M symbol) pass the bracket check — the
//! `cum` identity holds on the exchange's own numbers — and the presets
//! (and so `config/paper.toml`) carry BTCUSDT's and ETHUSDT's exactly.

use autobot_engine::config::{BracketConfig, presets};
use autobot_engine::types::{Bracket, Brackets, Money, Rate};

fn tiers() -> serde_json::Map<String, serde_json::Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/binance/rest/leverage_tiers.json"
    );
    let text = std::fs::read_to_string(path).expect("shared/data beside the checkout");
    serde_json::from_str(&text).unwrap()
}

/// The brackets of one symbol; `None` when a value does not fit our 10^-8
/// fixed point (caps of tens of billions USDT on a few small coins: far
/// beyond any account, refused at start if ever configured).
fn rows(v: &serde_json::Value) -> Option<Vec<Bracket>> {
    v.as_array()?
        .iter()
        .map(|t| {
            let info = &t["info"];
            let s = |k: &str| info[k].as_str().map(str::to_string);
            Some(Bracket {
                cap: Money::parse(&s("notionalCap")?).ok()?,
                mmr: Rate::parse(&s("maintMarginRatio")?).ok()?,
                cum: Money::parse(&s("cum")?).ok()?,
            })
        })
        .collect()
}

#[test]
fn every_real_bracket_table_passes_the_check() {
    let all = tiers();
    assert!(all.len() > 300);
    let mut checked = 0;
    for (symbol, v) in &all {
        let Some(table) = rows(v) else { continue };
        assert!(
            table.len() <= autobot_engine::types::MAX_BRACKETS,
            "{symbol}"
        );
        Brackets::new(&table).unwrap_or_else(|e| panic!("{symbol}: {e}"));
        checked += 1;
    }
    assert!(checked > 300, "{checked} of {}", all.len());
}

#[test]
fn the_presets_carry_binance_brackets() {
    let all = tiers();
    for (ins, key) in [
        (presets::btcusdt(), "BTC/USDT:USDT"),
        (presets::ethusdt(), "ETH/USDT:USDT"),
    ] {
        let real = rows(&all[key]).unwrap();
        let ours: Vec<Bracket> = ins
            .brackets
            .iter()
            .map(|&BracketConfig(cap, mmr, cum)| Bracket { cap, mmr, cum })
            .collect();
        assert_eq!(ours, real[..ours.len()], "{key}");
    }
}
