//! The whole configuration file: every section, composed and cross-checked.

use std::path::Path;

use autobot_engine::config::{
    self as cfg, AccountConfig, ConfigError, ControlConfig, CoreConfig, EngineConfig,
    InstrumentConfig, JournalConfig, RangeError, RiskConfig, StrategyConfig, Validate, check_range,
};
use autobot_gateways::paper::PaperConfig;
use autobot_gateways::synthetic::SyntheticConfig;
use serde::Deserialize;

/// Deployment (SPEC section 6). The gate (`crate::gate`) decides what each
/// needs before it starts; testnet and live need the Binance gateways,
/// which this build does not have yet, so `run` refuses them after the gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Deployment {
    /// Signals only: every order intent is audited and vetoed.
    DryRun,
    /// Simulated fills against the engine's own book.
    Paper,
    /// Binance testnet.
    Testnet,
    /// Binance with real money.
    Live,
}

impl Deployment {
    /// The name as the config spells it.
    pub fn name(self) -> &'static str {
        match self {
            Deployment::DryRun => "dry-run",
            Deployment::Paper => "paper",
            Deployment::Testnet => "testnet",
            Deployment::Live => "live",
        }
    }
}

/// `[run]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Deployment; `paper` is the default.
    pub mode: Deployment,
    /// Wall-clock length of a run in seconds (1 ..= 604800).
    pub duration_secs: u64,
    /// Directory under which each run gets its own directory.
    pub run_dir: String,
}

impl Validate for RunConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        check_range(at, "duration_secs", self.duration_secs, 1, 604_800)?;
        if self.run_dir.trim().is_empty() {
            return Err(RangeError::new(at, "run_dir", "\"\"", "a directory path"));
        }
        Ok(())
    }
}

/// The configuration file.
#[derive(Clone, Debug, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// `[run]`.
    pub run: RunConfig,
    /// `[engine]`.
    pub engine: EngineConfig,
    /// `[journal]`.
    pub journal: JournalConfig,
    /// `[[instruments]]`.
    pub instruments: Vec<InstrumentConfig>,
    /// `[strategy]`.
    pub strategy: StrategyConfig,
    /// `[risk]`.
    pub risk: RiskConfig,
    /// `[control]`.
    pub control: ControlConfig,
    /// `[account]`.
    pub account: AccountConfig,
    /// `[market]`.
    pub market: SyntheticConfig,
    /// `[paper]`.
    pub paper: PaperConfig,
}

impl Validate for AppConfig {
    fn validate(&self, _at: &str) -> Result<(), RangeError> {
        self.run.validate("run")?;
        self.engine.validate("engine")?;
        self.journal.validate("journal")?;
        self.instruments.as_slice().validate("instruments")?;
        self.strategy.validate("strategy")?;
        self.risk.validate("risk")?;
        cfg::check_correlated(&self.instruments, &self.risk.portfolio)?;
        self.control.validate("control")?;
        self.account.validate("account")?;
        self.market.validate("market")?;
        self.paper.validate("paper")?;
        let n = self.instruments.len();
        if self.market.start_prices.len() != n {
            return Err(RangeError::new(
                "market",
                "start_prices",
                format!("{} prices", self.market.start_prices.len()),
                format!("one per instrument ({n})"),
            ));
        }
        Ok(())
    }
}

impl AppConfig {
    /// Loads and validates a configuration file.
    pub fn load(path: &Path) -> Result<AppConfig, ConfigError> {
        cfg::load(path)
    }

    /// The configuration as TOML (saved in each run directory, so a replay
    /// uses exactly what the run used).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// The core's part of the configuration.
    pub fn core(&self) -> CoreConfig {
        CoreConfig::new(
            &self.instruments,
            self.strategy.clone(),
            self.risk.clone(),
            self.control.clone(),
            self.account.clone(),
            self.run.mode == Deployment::DryRun,
        )
    }
}
