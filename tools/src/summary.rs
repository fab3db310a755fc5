//! The end-of-run summary: what happened, what it earned, how fast.

use std::fmt::Write as _;

use autobot_engine::core::CoreStats;
use autobot_engine::event::InputBody;
use autobot_engine::types::{Money, Rounding};

use crate::config::Deployment;
use crate::run::RunOutcome;
use crate::text::group;

/// `time in state  RUNNING 91.2% · DEGRADED 0.0% · SAFE_MODE 8.8% · HALTED 0.0%`:
/// the share of event time the core spent in each system state
/// (`CoreStats::state_shares`).
pub fn time_in_state(shares: [f64; 4]) -> String {
    let names = ["RUNNING", "DEGRADED", "SAFE_MODE", "HALTED"];
    let parts: Vec<String> = names
        .iter()
        .zip(shares)
        .map(|(n, f)| format!("{n} {:.1}%", f * 100.0))
        .collect();
    format!("time in state  {}", parts.join(" · "))
}

/// The vetoes by rule, most first, as names and counts.
pub fn ranked_vetoes(st: &CoreStats) -> Vec<(String, u64)> {
    st.vetoes_by_rule
        .ranked()
        .into_iter()
        .map(|(r, n)| (format!("{r:?}"), n))
        .collect()
}

/// The `top` rules of `ranked` with their counts (`none` without a veto).
pub fn vetoes_by_rule(ranked: &[(String, u64)], top: usize) -> String {
    if ranked.is_empty() {
        return "none".into();
    }
    let mut parts: Vec<String> = ranked
        .iter()
        .take(top)
        .map(|(rule, n)| format!("{rule} {}", group(*n)))
        .collect();
    let rest: u64 = ranked.iter().skip(top).map(|(_, n)| n).sum();
    if rest > 0 {
        parts.push(format!("{} other {}", ranked.len() - top, group(rest)));
    }
    parts.join(" · ")
}

/// Renders the summary printed at the end of `autobot run` (and saved as
/// `summary.txt` in the run directory).
pub fn render(o: &RunOutcome, mode: Deployment, market: &str) -> String {
    let mut s = String::new();
    header(&mut s, o, mode, market);
    market_and_exchange(&mut s, o);
    core_counts(&mut s, o);
    positions(&mut s, o);
    journal_and_paper(&mut s, o);
    latency_and_warnings(&mut s, o);
    s
}

/// The title, the run directory, and what opening the journal restored or repaired.
fn header(s: &mut String, o: &RunOutcome, mode: Deployment, market: &str) {
    let title = match mode {
        Deployment::DryRun => "dry run (signals only)",
        Deployment::Paper => "paper run",
        Deployment::Testnet => "testnet run",
        Deployment::Live => "LIVE run",
    };
    let _ = writeln!(s, "autobot {title} — {market}");
    let _ = writeln!(s, "  run directory     {}", o.run_dir.display());
    if o.restored > 0 || o.restored_from.is_some() {
        let from = o.restored_from.as_ref().map_or(String::new(), |(p, seq)| {
            format!(" after snapshot {} (input {seq})", p.display())
        });
        let _ = writeln!(
            s,
            "  resumed           {} inputs of the earlier run replayed into the core{from}",
            group(o.restored)
        );
    }
    if let Some((path, offset, bytes, reason)) = &o.recovery.truncated {
        let _ = writeln!(
            s,
            "  journal recovery  removed {reason}: {bytes} bytes at offset {offset} of {}{}",
            path.display(),
            o.recovery
                .kept
                .as_ref()
                .map_or(String::new(), |k| format!(" (kept in {})", k.display()))
        );
    }
    if let Some((path, len, size)) = &o.recovery.extended {
        let _ = writeln!(
            s,
            "  journal recovery  {} was cut to {len} bytes; restored to {size}",
            path.display()
        );
    }
}

/// The market that ran, its gateway, and the exchange side (reconciliation, execution, the account at the end), the operator and metrics endpoints.
fn market_and_exchange(s: &mut String, o: &RunOutcome) {
    let secs = o.elapsed.as_secs_f64().max(1e-9);
    let m = &o.market;
    let what = if m.gateway.is_some() {
        "market messages"
    } else {
        "market events"
    };
    let _ = writeln!(
        s,
        "  wall time         {:.1} s   {what} {} ({:.0}/s)",
        secs,
        group(m.events),
        m.events as f64 / secs
    );
    if let (Some(g), Some(at)) = (&m.gateway, &m.endpoint) {
        let _ = writeln!(
            s,
            "  market gateway    {at}: {} connection(s), {} lost, {} snapshots, {} gaps, {} refused, {} stale",
            g.connects,
            g.disconnects,
            g.snapshots,
            g.gaps,
            g.refused_total(),
            g.stale
        );
    }
    if let Some(r) = &o.reconciled {
        let held: Vec<String> = r
            .positions
            .iter()
            .map(|(s, q)| format!("{s} {q}"))
            .collect();
        let _ = writeln!(
            s,
            "  account at start  wallet {}, positions {}, {} foreign orders cancelled",
            r.wallet,
            if held.is_empty() {
                "none".into()
            } else {
                held.join(", ")
            },
            r.cancelled.len()
        );
    }
    if let Some(x) = &o.exchange {
        let (e, u) = (&x.exec, &x.user);
        let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
        let _ = writeln!(
            s,
            "  execution         signed REST: {} accepted, {} refused ({} locally), {} cancels, {} clock resyncs, {} back-offs",
            e.accepted, e.rejected, e.refused_locally, e.cancels, e.clock_resyncs, e.backoffs
        );
        let _ = writeln!(
            s,
            "  user data stream  {} messages, {} events, {} refused, {} foreign, {} exchange closes, {} listen keys, {} expired",
            load(&u.messages),
            load(&u.events),
            load(&u.refused),
            load(&u.foreign),
            load(&u.exchange_closes),
            load(&u.listen_keys),
            load(&u.expired)
        );
        let mismatches = load(&u.leverage_mismatches);
        if mismatches > 0 {
            let _ = writeln!(
                s,
                "  leverage          set at the exchange {mismatches} time(s) to other than the config's"
            );
        }
        let _ = writeln!(
            s,
            "  reconciliation    {} order queries after connects, {} missed reports recovered, {} duplicates dropped, {} failures",
            load(&u.reconciliations),
            load(&u.recovered),
            load(&u.duplicates),
            load(&u.reconcile_failures)
        );
        match &x.positions {
            Ok(p) => {
                let list: Vec<String> = p.iter().map(|(s, q)| format!("{s} {q}")).collect();
                let _ = writeln!(
                    s,
                    "  exchange positions {}",
                    if list.is_empty() {
                        "none".into()
                    } else {
                        list.join(", ")
                    }
                );
            }
            Err(e) => {
                let _ = writeln!(s, "  exchange positions unreadable: {e}");
            }
        }
    }
    if let Some(c) = &o.control {
        let _ = writeln!(
            s,
            "  operator control  {}: {} requests, {} commands, {} without the token, {} malformed; kill switch {} by SIGUSR1",
            c.addr, c.requests, c.commands, c.unauthorized, c.bad_requests, c.signal_kills
        );
    }
    if let Some((addr, scrapes)) = &o.metrics {
        let _ = writeln!(
            s,
            "  metrics           http://{addr}/metrics: {scrapes} scrapes"
        );
    }
    if let Some((st, models)) = &o.advisor {
        let core = o.pipeline.core.core.advisor_stats();
        let _ = writeln!(
            s,
            "  advisor           {}: {} feature vectors, {} predictions ({} model failures); the core kept {}, {} came late, {} refused; entries cut {}, refused {}, without fresh advice {}",
            models.join(", "),
            st.vectors,
            st.predictions,
            st.failures,
            core.predictions,
            core.superseded,
            core.refused,
            core.cut,
            core.vetoed,
            core.no_advice
        );
    }
    let n = &o.notifications;
    let _ = writeln!(
        s,
        "  notifications     {} made, {} delivered, {} spooled to {}, {} coalesced, {} notices dropped",
        n.made,
        n.delivered,
        n.spooled,
        crate::notify::SPOOL_FILE,
        n.coalesced,
        n.dropped
    );
    if let Some(st) = &o.store {
        let c = &st.counts;
        let _ = writeln!(
            s,
            "  trade store       {}: {} rows ({} fills, {} orders, {} decisions, {} equity points, {} round trips) from {} inputs in {} commits; at most {} inputs behind{}",
            st.store,
            c.rows(),
            c.fills,
            c.orders,
            c.decisions,
            c.equity,
            c.round_trips,
            c.inputs,
            st.commits,
            st.behind_max,
            st.error
                .as_ref()
                .map_or(String::new(), |e| format!("; STOPPED EARLY: {e}"))
        );
    }
}

/// Why strategy entries were not taken, most frequent first.
fn entries_not_taken(st: &autobot_engine::core::CoreStats) -> String {
    let mut reasons = [
        ("held (no new risk)", st.signals_held),
        ("shadowed by another instance", st.signals_shadowed),
        ("off-regime", st.signals_off_regime),
        ("below cost", st.signals_below_cost),
        ("repeated after a veto", st.signals_repeated),
        ("sized below one step", st.signals_too_small),
        ("disabled", st.signals_disabled),
        ("high volatility", st.signals_high_vol),
    ];
    reasons.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    let listed: Vec<String> = reasons
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(why, n)| format!("{why} {}", group(*n)))
        .collect();
    if listed.is_empty() {
        "none refused".into()
    } else {
        listed.join(" · ")
    }
}

/// One line per strategy instance: whether it traded and what it earned
/// after fees, when it became warm per symbol, and whether it is disabled.
fn strategy_lines(s: &mut String, o: &RunOutcome) {
    let core = &o.pipeline.core.core;
    for (k, name) in o.strategies.iter().enumerate() {
        let Some((enabled, t)) = core.strategy_totals(k) else {
            continue;
        };
        let ready: Vec<String> = o
            .symbols
            .iter()
            .enumerate()
            .filter_map(|(i, sym)| {
                let (at, warmup) =
                    core.strategy_readiness(k, autobot_engine::types::SymbolId(i as u16))?;
                Some(match at {
                    Some(t) => format!(
                        "{sym} warm at {} ({warmup})",
                        crate::position::format_utc(t.0)
                    ),
                    None => format!("{sym} not warm ({warmup} needed)"),
                })
            })
            .collect();
        let _ = writeln!(
            s,
            "    {name:<16}{} round trips, {} won, net {} USDT after fees{}; {}",
            group(t.trips),
            group(t.wins),
            t.net,
            if enabled {
                ""
            } else {
                " (disabled by the operator)"
            },
            ready.join(", ")
        );
    }
}

/// What the core saw and did: regimes, inputs by kind, decisions, time in each state, the account, anything refused as implausible.
fn core_counts(s: &mut String, o: &RunOutcome) {
    let core = &o.pipeline.core.core;
    let st = core.stats();
    let m = &o.market;
    if let Some(regime_events) = m.regime_events {
        let regimes = [
            "trending up",
            "trending down",
            "ranging",
            "volatility burst",
        ];
        let r: Vec<String> = regimes
            .iter()
            .zip(regime_events)
            .map(|(n, c)| format!("{n} {}", group(c)))
            .collect();
        let _ = writeln!(s, "  market regimes    {}", r.join(", "));
    }
    let kinds: Vec<String> = InputBody::KIND_NAMES
        .iter()
        .zip(st.by_kind)
        .filter(|(_, c)| *c > 0)
        .map(|(n, c)| format!("{n} {}", group(c)))
        .collect();
    let _ = writeln!(
        s,
        "  events processed  {} ({})",
        group(st.events),
        kinds.join(", ")
    );
    let _ = writeln!(
        s,
        "  orders            {} sent, {} filled, {} rejected, {} vetoed, {} alerts",
        group(st.orders),
        group(st.fills),
        group(st.rejects),
        group(st.vetoes),
        group(st.alerts)
    );
    let _ = writeln!(
        s,
        "  vetoes by rule    {}",
        vetoes_by_rule(&ranked_vetoes(st), 5)
    );
    let _ = writeln!(s, "  {}", time_in_state(st.state_shares()));
    let _ = writeln!(
        s,
        "  strategies        {} signals, {} regime changes{}; entries not taken: {}",
        group(st.signals),
        group(st.regime_changes),
        match st.gap_restarts {
            0 => String::new(),
            n => format!(", warm-up restarted after {n} gaps in the bars"),
        },
        entries_not_taken(st)
    );
    strategy_lines(s, o);
    let acct = core.account();
    let _ = writeln!(
        s,
        "  control           mode {:?}, state {:?}{}",
        core.mode(),
        core.state(),
        if core.kill_switch() {
            ", KILL SWITCH ON"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "  account           balance {:.2} (from {:.2}), equity {:.2}, day {:.2}, drawdown {:.2}%, funding {:.2}",
        acct.balance(),
        acct.start(),
        acct.equity(),
        acct.daily_pnl(),
        acct.drawdown().to_f64() * 100.0,
        acct.funding()
    );
    let implausible: u64 = st.implausible.iter().sum();
    if st.crossed
        + st.out_of_order
        + st.duplicate_updates
        + st.unknown_orders
        + st.unknown_symbols
        + implausible
        > 0
    {
        let reasons: Vec<String> = autobot_engine::plausible::Implausible::ALL
            .iter()
            .zip(st.implausible)
            .filter(|(_, n)| *n > 0)
            .map(|(r, n)| format!("{} {n}", r.name()))
            .collect();
        let _ = writeln!(
            s,
            "  refused input     crossed {}, out of order {}, duplicate reports {}, unknown orders {}, unknown symbols {}, implausible {}{}",
            st.crossed,
            st.out_of_order,
            st.duplicate_updates,
            st.unknown_orders,
            st.unknown_symbols,
            implausible,
            if reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", reasons.join(", "))
            }
        );
    }
}

/// Positions and PnL per symbol, and the totals.
fn positions(s: &mut String, o: &RunOutcome) {
    let core = &o.pipeline.core.core;
    let mut net_total = Money::ZERO;
    for ins in core.instruments() {
        let Some(pos) = core.position(ins.id) else {
            continue;
        };
        let mark = core.book(ins.id).and_then(|b| b.mid());
        let unreal = mark.and_then(|m| pos.unrealized(m)).unwrap_or(Money::ZERO);
        let net = pos
            .realized()
            .checked_add(unreal)
            .and_then(|x| x.checked_sub(pos.fees()))
            .unwrap_or(Money::ZERO);
        net_total = net_total.checked_add(net).unwrap_or(net_total);
        let avg = pos
            .avg_entry()
            .and_then(|p| p.round_to(ins.tick_size, Rounding::HalfEven))
            .map_or("-".to_string(), |p| {
                format!("{p:.prec$}", prec = usize::from(ins.tick_size.decimals()))
            });
        let _ = writeln!(
            s,
            "  {:<17} position {} @ {}, realized {:.2}, unrealized {:.2}, fees {:.2}, net {:.2} USDT ({} fills)",
            ins.name.as_str(),
            pos.qty(),
            avg,
            pos.realized(),
            unreal,
            pos.fees(),
            net,
            pos.fills()
        );
    }
    let _ = writeln!(s, "  net PnL           {net_total:.2} USDT (marked at mid)");
    let _ = writeln!(
        s,
        "  output digest     {:016x} over {} outputs",
        core.digest(),
        group(core.outputs())
    );
}

/// The journal, snapshots and paper execution.
fn journal_and_paper(s: &mut String, o: &RunOutcome) {
    let j = &o.pipeline.journal;
    let _ = writeln!(
        s,
        "  journal           {} (inputs 0..{}; this run appended {} records, {:.1} MiB)",
        j.path.display(),
        group(j.next_seq),
        group(j.records),
        j.bytes as f64 / (1024.0 * 1024.0)
    );
    if let Some(snap) = &o.snapshot {
        let _ = writeln!(s, "  snapshot          {}", snap.display());
    }
    if let Some(p) = &o.pipeline.snapshots {
        let _ = writeln!(
            s,
            "  periodic          {} snapshots by the shadow core ({} inputs followed)",
            p.written,
            group(p.inputs)
        );
    }
    let (p, backlog) = (&o.paper.exchange, o.paper.max_backlog);
    let _ = writeln!(
        s,
        "  paper execution   {} orders, {} fills ({} by resting limits as maker), {} rested, {} cancelled, {} expired, {} rejects, max report backlog {backlog}",
        group(p.orders),
        group(p.fills),
        group(p.maker_fills),
        group(p.rested),
        group(p.cancelled),
        group(p.expired),
        group(p.rejects),
    );
}

/// Latency per stage, then the warnings.
fn latency_and_warnings(s: &mut String, o: &RunOutcome) {
    let stages = crate::latency::distributions(&o.latency);
    let _ = writeln!(
        s,
        "latency per stage (histograms in {}; clock: {}):",
        crate::latency::dir_of(&o.run_dir).display(),
        o.clock
    );
    for line in crate::latency::table(&[(String::new(), stages)]).lines() {
        let _ = writeln!(s, "  {line}");
    }
    for w in &o.pipeline.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn groups_thousands() {
        assert_eq!(super::group(0), "0");
        assert_eq!(super::group(999), "999");
        assert_eq!(super::group(1000), "1,000");
        assert_eq!(super::group(1234567), "1,234,567");
    }
}
