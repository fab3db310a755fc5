//! `analysis.html`: the analyzer's tables on one self-contained page (no
//! script, nothing fetched).

use std::fmt::Write as _;

use super::{Analysis, Group};
use crate::text::esc;

/// Trips listed on the page (all are in trips.csv).
const MAX_ROWS: usize = 500;

fn table(s: &mut String, title: &str, rows: &[Group]) {
    let _ = writeln!(
        s,
        "<h2>{}</h2>\n<table><tr><th>name</th><th>trips</th><th>labelled</th><th>PnL</th></tr>",
        esc(title)
    );
    for g in rows {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td></tr>",
            esc(&g.name),
            g.trips,
            g.labelled,
            g.pnl
        );
    }
    s.push_str("</table>\n");
}

/// The page.
pub(super) fn page(a: &Analysis) -> String {
    let mut s = String::with_capacity(1 << 16);
    s.push_str(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>autobot analysis</title>\n\
         <style>body{font-family:sans-serif;margin:2em;max-width:1100px}\
         table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\
         th{background:#f4f4f4}td:first-child{text-align:left}.hyp{color:#8250df}</style>\n</head><body>\n",
    );
    let _ = writeln!(
        s,
        "<h1>Trade analysis</h1>\n<p>{} · {} round trips · {} labelled</p>",
        esc(&a.journal),
        a.trips.len(),
        a.trips.iter().filter(|t| !t.labels.is_empty()).count()
    );
    s.push_str("<h2>Labels and their rules</h2>\n<table><tr><th>label</th><th>rule</th></tr>\n");
    for (name, rule) in &a.rules {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td style=\"text-align:left\">{}</td></tr>",
            esc(name),
            esc(rule)
        );
    }
    s.push_str("</table>\n");
    if !a.gaps.is_empty() {
        s.push_str(
            "<h2>Gaps in the market data</h2>\n<p>No prices reached the indicators here; \
             a trip across one is worth a second look.</p>\n\
             <table><tr><th>symbol</th><th>from</th><th>to</th><th>minutes</th></tr>\n",
        );
        for g in &a.gaps {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.0}</td></tr>",
                esc(&g.symbol),
                esc(&g.from),
                esc(&g.to),
                g.minutes
            );
        }
        s.push_str("</table>\n");
    }
    table(&mut s, "By label", &a.by_label);
    table(&mut s, "By strategy at entry", &a.by_strategy);
    table(&mut s, "By regime at entry", &a.by_regime);
    if a.by_advice.iter().any(|g| g.name != "not advised") {
        table(&mut s, "By the advisor's verdict at entry", &a.by_advice);
    }
    let _ = writeln!(
        s,
        "<h2 class=\"hyp\">Vetoed intents (HYPOTHETICAL)</h2>\n<p class=\"hyp\">{} strategy intents were vetoed; {} simulated: entered at the mark when vetoed, out at the signal's stop or target or after 4 h, taker fees both sides. Together they would have made {:.2} USDT. Nothing of this was traded.</p>",
        a.vetoed, a.vetoed_simulated, a.vetoed_hypothetical_pnl
    );
    s.push_str("<table><tr><th>at</th><th>symbol</th><th>strategy</th><th>side</th><th>rule</th><th>entry</th><th>ended</th><th>minutes</th><th>hypothetical PnL</th></tr>\n");
    for v in a
        .vetoes
        .iter()
        .filter(|v| v.hypothetical.is_some())
        .take(MAX_ROWS)
    {
        let h = v.hypothetical.unwrap_or(super::labels::Hypothetical {
            exit: 0.0,
            ended: "",
            pnl: 0.0,
            minutes: 0.0,
        });
        let _ = writeln!(
            s,
            "<tr class=\"hyp\"><td>{}</td><td>{}</td><td>{}</td><td>{:?}</td><td>{}</td><td>{}</td><td>{} at {}</td><td>{:.1}</td><td>{:.2}</td></tr>",
            esc(&v.at),
            esc(&v.symbol),
            esc(&v.strategy),
            v.side,
            esc(&v.rule),
            v.entry,
            h.ended,
            h.exit,
            h.minutes,
            h.pnl
        );
    }
    s.push_str("</table>\n");
    let _ = writeln!(
        s,
        "<h2>Round trips</h2>\n<table><tr><th>opened</th><th>symbol</th><th>side</th><th>strategy</th><th>regime</th><th>advisor</th><th>minutes</th><th>exit reason</th><th>PnL</th><th>fees/gross</th><th>MFE bp (R)</th><th>MAE bp (R)</th><th>labels</th></tr>"
    );
    let r = |x: Option<f64>| x.map_or(String::new(), |v| format!(" ({v:.2}R)"));
    for t in a.trips.iter().take(MAX_ROWS) {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{:?}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{:.2}</td><td>{}</td><td>{:.1}{}</td><td>{:.1}{}</td><td>{}</td></tr>",
            esc(&t.opened),
            esc(&t.symbol),
            t.side,
            esc(&t.strategy),
            esc(&t.regime),
            esc(&t.advice),
            t.minutes,
            esc(&t.exit_reason),
            t.pnl,
            t.fee_share
                .map_or(String::new(), |f| format!("{:.0}%", f * 100.0)),
            t.excursions.mfe_bp,
            r(t.excursions.mfe_r),
            t.excursions.mae_bp,
            r(t.excursions.mae_r),
            t.labels
                .iter()
                .map(|l| l.name())
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    s.push_str("</table>\n");
    if a.trips.len() > MAX_ROWS {
        let _ = writeln!(
            s,
            "<p>The first {MAX_ROWS} shown; all are in trips.csv.</p>"
        );
    }
    s.push_str("</body></html>\n");
    s
}
