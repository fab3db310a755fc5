//! Ready-made configuration sections: Binance's BTCUSDT and ETHUSDT trading
//! rules, and the example limits of SPEC section 5. Tests, benchmarks and
//! examples start from these and change what they exercise, so every one
//! of them runs with a complete, valid rulebook. `config/paper.toml` carries
//! the same values.

use super::{
    AccountConfig, BracketConfig, BreakerConfig, ControlConfig, CoreConfig, ForbiddenConfig,
    GuardConfig, InstrumentConfig, NoEdge, PortfolioConfig, RiskConfig, SanityConfig, SizingConfig,
    StartMode, StrategyConfig, WatchConfig,
};
use crate::types::{Money, Price, Qty, Rate};

fn m(s: &str) -> Money {
    Money::parse(s).unwrap_or(Money::ZERO)
}
fn r(s: &str) -> Rate {
    Rate::parse(s).unwrap_or(Rate::ZERO)
}
fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap_or(Qty::ZERO)
}

fn brackets(rows: &[(&str, &str, &str)]) -> Vec<BracketConfig> {
    rows.iter()
        .map(|&(cap, mmr, cum)| BracketConfig(m(cap), r(mmr), m(cum)))
        .collect()
}

/// BTCUSDT as Binance lists it (exchangeInfo of 2025-08-07; the first six
/// maintenance-margin brackets of `GET /fapi/v1/leverageBracket`).
pub fn btcusdt() -> InstrumentConfig {
    InstrumentConfig {
        symbol: "BTCUSDT".into(),
        tick_size: Price::parse("0.10").unwrap_or(Price::ZERO),
        step_size: q("0.001"),
        min_notional: m("100"),
        min_qty: q("0.001"),
        max_qty: q("1000"),
        max_market_qty: q("120"),
        brackets: brackets(&[
            ("50000", "0.004", "0"),
            ("600000", "0.005", "50"),
            ("3000000", "0.0065", "950"),
            ("12000000", "0.01", "11450"),
            ("70000000", "0.02", "131450"),
            ("100000000", "0.025", "481450"),
        ]),
    }
}

/// ETHUSDT as Binance lists it (same sources as [`btcusdt`]).
pub fn ethusdt() -> InstrumentConfig {
    InstrumentConfig {
        symbol: "ETHUSDT".into(),
        tick_size: Price::parse("0.01").unwrap_or(Price::ZERO),
        step_size: q("0.001"),
        min_notional: m("20"),
        min_qty: q("0.001"),
        max_qty: q("10000"),
        max_market_qty: q("2000"),
        brackets: brackets(&[
            ("50000", "0.004", "0"),
            ("600000", "0.005", "50"),
            ("3000000", "0.0065", "950"),
            ("12000000", "0.01", "11450"),
            ("50000000", "0.02", "131450"),
            ("65000000", "0.025", "381450"),
        ]),
    }
}

/// The example limits of SPEC section 5 (max position 50 000 USDT per
/// symbol — 0.5 BTC at 100 000 —, 3x, 3% daily loss, 10% drawdown, 5
/// losses, 10 bps spread, 30 s stale feed, …).
pub fn risk() -> RiskConfig {
    RiskConfig {
        max_position_notional: m("50000"),
        max_order_notional: m("50000"),
        max_leverage: r("3"),
        max_daily_loss: r("0.03"),
        max_drawdown: r("0.10"),
        max_consecutive_losses: 5,
        max_open_positions: 4,
        max_open_orders: 64,
        min_hold_secs: 0,
        max_hold_secs: 0,
        forbidden: ForbiddenConfig {
            max_spread_bps: r("10"),
            stale_feed_secs: 30,
            funding_window_secs: 300,
            max_volatility_bps: r("20"),
            volatility_span: 500,
        },
        sizing: sizing(),
        portfolio: PortfolioConfig {
            volatility_target_bps: r("5"),
            correlated: Vec::new(),
            correlation_threshold: r("0.7"),
            correlation_span: 300,
            max_correlated_notional: m("100000"),
            liquidity_fraction: r("1"),
            min_liquidation_distance: r("0.10"),
        },
        sanity: SanityConfig {
            price_band: r("0.05"),
        },
        breakers: BreakerConfig {
            loss_cooldown_secs: 300,
            error_window: 20,
            max_errors: 10,
            on_liquidation: super::LiquidationHold::Halted,
            on_drift: super::DriftAction::SafeMode,
        },
        liquidation_watch: WatchConfig {
            alert: r("0.10"),
            reduce: r("0.05"),
            close: r("0.03"),
        },
        guards: guards(),
    }
}

/// 0.5% of equity at risk per stopped entry, 1000 USDT without a stop,
/// quarter Kelly over 30 trips from a prior of 0.1, minimum size without an
/// edge, sizes halved beyond a 5% drawdown.
pub fn sizing() -> SizingConfig {
    SizingConfig {
        risk_per_trade: r("0.005"),
        notional: m("1000"),
        kelly_fraction: r("0.25"),
        kelly_trips: 30,
        kelly_prior: r("0.1"),
        no_edge: NoEdge::MinSize,
        soft_drawdown: r("0.05"),
    }
}

/// Five minutes of time, 10^9 update ids, 10% of price per input.
pub fn guards() -> GuardConfig {
    GuardConfig {
        time_window_secs: 300,
        max_update_jump: 1_000_000_000,
        max_price_jump: r("0.10"),
    }
}

/// FullAuto, 30 s approvals, limit orders re-placed after 10 s.
pub fn control() -> ControlConfig {
    ControlConfig {
        mode: StartMode::FullAuto,
        approval_timeout_secs: 30,
        replace_after_secs: 10,
    }
}

/// 10 000 USDT at 3x.
pub fn account() -> AccountConfig {
    AccountConfig {
        starting_balance: m("10000"),
        leverage: 3,
    }
}

/// A core trading `instruments` with `strategy` and the presets above.
pub fn core(instruments: &[InstrumentConfig], strategy: StrategyConfig) -> CoreConfig {
    CoreConfig::new(instruments, strategy, risk(), control(), account(), false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Validate;

    #[test]
    fn presets_are_valid() {
        for ins in [btcusdt(), ethusdt()] {
            [ins].as_slice().validate("instruments").unwrap();
        }
        risk().validate("risk").unwrap();
        control().validate("control").unwrap();
        account().validate("account").unwrap();
    }
}
