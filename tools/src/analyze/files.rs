//! The analysis's files: `analysis.json`, `trips.csv`, `vetoed.csv` and
//! `analysis.html` (drawn by `page`), each written whole.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::Analysis;

/// Writes the analysis into `out`: JSON, CSV and the page.
pub fn write(a: &Analysis, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let f = |x: f64| format!("{x:.6}");
    let o = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v:.4}"));
    let trips = crate::text::csv_text(
        &[
            "symbol",
            "side",
            "strategy",
            "regime",
            "advice",
            "opened",
            "closed",
            "minutes",
            "entry",
            "exit",
            "exit_reason",
            "gross",
            "fees",
            "pnl",
            "fee_share",
            "mfe_bp",
            "mae_bp",
            "mfe_r",
            "mae_r",
            "labels",
        ],
        a.trips.iter().map(|t| {
            vec![
                t.symbol.clone(),
                format!("{:?}", t.side).to_lowercase(),
                t.strategy.clone(),
                t.regime.clone(),
                t.advice.clone(),
                t.opened.clone(),
                t.closed.clone(),
                format!("{:.2}", t.minutes),
                t.entry.to_string(),
                t.exit.to_string(),
                t.exit_reason.clone(),
                f(t.gross),
                f(t.fees),
                f(t.pnl),
                o(t.fee_share),
                format!("{:.2}", t.excursions.mfe_bp),
                format!("{:.2}", t.excursions.mae_bp),
                o(t.excursions.mfe_r),
                o(t.excursions.mae_r),
                t.labels
                    .iter()
                    .map(|l| l.name())
                    .collect::<Vec<_>>()
                    .join(" "),
            ]
        }),
    );
    let vetoed = crate::text::csv_text(
        &[
            "at",
            "symbol",
            "strategy",
            "side",
            "qty",
            "rule",
            "entry",
            "hypothetical_exit",
            "hypothetical_end",
            "hypothetical_minutes",
            "hypothetical_pnl",
        ],
        a.vetoes.iter().map(|v| {
            let h = v.hypothetical;
            vec![
                v.at.clone(),
                v.symbol.clone(),
                v.strategy.clone(),
                format!("{:?}", v.side).to_lowercase(),
                v.qty.to_string(),
                v.rule.clone(),
                v.entry.to_string(),
                h.map_or(String::new(), |h| h.exit.to_string()),
                h.map_or(String::new(), |h| h.ended.to_string()),
                h.map_or(String::new(), |h| format!("{:.1}", h.minutes)),
                h.map_or(String::new(), |h| f(h.pnl)),
            ]
        }),
    );
    let files = [
        ("analysis.json", crate::whole::pretty_json(a)),
        ("trips.csv", trips),
        ("vetoed.csv", vetoed),
        ("analysis.html", super::page::page(a)),
    ];
    let mut written = Vec::new();
    for (name, text) in files {
        let path = out.join(name);
        crate::whole::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
