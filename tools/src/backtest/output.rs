//! The report's files: `report.json`, `trades.csv`, `round_trips.csv` and
//! `report.html` (the page drawn by `html` from the `report`).

use std::path::Path;

use autobot_engine::config::CoreConfig;

use super::report::Report;
use super::run::Backtest;

/// Writes the report's files into `dir` (created if need be).
pub fn write(
    dir: &Path,
    report: &Report,
    (bt, core): (&Backtest, &CoreConfig),
    cfg: &crate::config::AppConfig,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    // The configuration the core ran: the data's symbols only.
    let symbols: Vec<String> = core
        .instruments
        .iter()
        .map(|i| i.name.to_string())
        .collect();
    let config = super::run::effective_config(cfg, &symbols).to_toml();
    std::fs::write(dir.join("config.toml"), &config)?;
    std::fs::write(dir.join("report.json"), report.to_json())?;
    std::fs::write(
        dir.join("trades.csv"),
        super::report::trades_csv(&bt.recorder, core),
    )?;
    std::fs::write(
        dir.join("round_trips.csv"),
        super::report::trips_csv(&bt.recorder, core),
    )?;
    let html = super::html::page(report, &bt.recorder, core, &config);
    std::fs::write(dir.join("report.html"), html)
}
