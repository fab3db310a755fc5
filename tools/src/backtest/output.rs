//! The report's files: `report.json`, `trades.csv`, `round_trips.csv`,
//! `equity.csv`, the three tables again as Parquet (`trades.parquet`,
//! `round_trips.parquet`, `equity.parquet`: the same rows, typed, decimals
//! exact) and `report.html` (the page drawn by `html` from the `report`).
//! Each file is written whole or not at all.

use std::path::Path;

use autobot_engine::config::CoreConfig;

use super::report::Report;
use super::run::Backtest;
use crate::{parquet_table, whole};

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
    whole::write(&dir.join("config.toml"), &config)?;
    whole::write(&dir.join("report.json"), report.to_json())?;
    let tables = [
        (
            "trades",
            super::report::trades_csv(&bt.recorder, core),
            &super::report::TRADES_KINDS[..],
        ),
        (
            "round_trips",
            super::report::trips_csv(&bt.recorder, core),
            &super::report::TRIPS_KINDS[..],
        ),
        (
            "equity",
            super::report::equity_csv(&bt.recorder),
            &super::report::EQUITY_KINDS[..],
        ),
    ];
    for (name, csv, kinds) in tables {
        whole::write(&dir.join(format!("{name}.csv")), &csv)?;
        let mut f = whole::WholeFile::create(&dir.join(format!("{name}.parquet")))?;
        parquet_table::from_csv(&csv, kinds, &mut f, &[]).map_err(std::io::Error::other)?;
        f.finish()?;
    }
    let html = super::html::page(report, &bt.recorder, core, &config);
    whole::write(&dir.join("report.html"), html)
}
