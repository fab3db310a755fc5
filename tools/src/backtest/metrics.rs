//! Performance statistics of an equity series and of round trips. Pure
//! functions of their inputs (floats in a fixed order of operations, so
//! the same series gives the same bits).

/// Simple returns between consecutive equity points (a point at or below
/// zero ends the series: nothing is left to return on).
pub fn returns(equity: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(equity.len().saturating_sub(1));
    for w in equity.windows(2) {
        if w[0] <= 0.0 {
            break;
        }
        out.push(w[1] / w[0] - 1.0);
    }
    out
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Annualized Sharpe ratio (zero risk-free rate): mean over sample
/// standard deviation of the period returns, times √(periods per year).
/// `None` with fewer than two returns or no variation.
pub fn sharpe(returns: &[f64], periods_per_year: f64) -> Option<f64> {
    if returns.len() < 2 {
        return None;
    }
    let m = mean(returns);
    let var = returns.iter().map(|r| (r - m) * (r - m)).sum::<f64>() / (returns.len() - 1) as f64;
    (var > 0.0).then(|| m / var.sqrt() * periods_per_year.sqrt())
}

/// Annualized Sortino ratio: mean return over the downside deviation
/// (root mean square of the negative returns, over all periods), times
/// √(periods per year). `None` with fewer than two returns or no losing
/// period.
pub fn sortino(returns: &[f64], periods_per_year: f64) -> Option<f64> {
    if returns.len() < 2 {
        return None;
    }
    let down = returns.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / returns.len() as f64;
    (down > 0.0).then(|| mean(returns) / down.sqrt() * periods_per_year.sqrt())
}

/// The largest fall from a running peak, as a fraction of the peak, and
/// the index of the point where it bottomed.
pub fn max_drawdown(equity: &[f64]) -> (f64, usize) {
    let mut peak = f64::MIN;
    let (mut worst, mut at) = (0.0, 0);
    for (i, &e) in equity.iter().enumerate() {
        peak = peak.max(e);
        if peak > 0.0 {
            let dd = (peak - e) / peak;
            if dd > worst {
                worst = dd;
                at = i;
            }
        }
    }
    (worst, at)
}

/// The drawdown at each point, fractions of the running peak.
pub fn drawdowns(equity: &[f64]) -> Vec<f64> {
    let mut peak = f64::MIN;
    equity
        .iter()
        .map(|&e| {
            peak = peak.max(e);
            if peak > 0.0 { (peak - e) / peak } else { 0.0 }
        })
        .collect()
}

/// Round-trip statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct TripStats {
    /// Round trips.
    pub trades: u64,
    /// Of which won (net PnL > 0).
    pub wins: u64,
    /// Won / trades; `None` without trades.
    pub win_rate: Option<f64>,
    /// Gross profit over gross loss; `None` without a losing trade.
    pub profit_factor: Option<f64>,
}

/// Statistics of round trips with net PnLs `pnls`.
pub fn trip_stats(pnls: &[f64]) -> TripStats {
    let wins = pnls.iter().filter(|p| **p > 0.0).count() as u64;
    let won: f64 = pnls.iter().filter(|p| **p > 0.0).sum();
    let lost: f64 = -pnls.iter().filter(|p| **p < 0.0).sum::<f64>();
    TripStats {
        trades: pnls.len() as u64,
        wins,
        win_rate: (!pnls.is_empty()).then(|| wins as f64 / pnls.len() as f64),
        // `+ 0.0`: a float sum of nothing is -0.0, which prints "-0.00".
        profit_factor: (lost > 0.0).then(|| won / lost + 0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 100 → 110 → 99 → 108.9 → 130.68: returns +10%, -10%, +10%, +20%.
    const EQUITY: [f64; 5] = [100.0, 110.0, 99.0, 108.9, 130.68];

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn returns_of_a_hand_made_series() {
        let r = returns(&EQUITY);
        let want = [0.1, -0.1, 0.1, 0.2];
        assert_eq!(r.len(), 4);
        for (a, b) in r.iter().zip(want) {
            assert!(close(*a, b), "{r:?}");
        }
    }

    #[test]
    fn sharpe_and_sortino_by_hand() {
        let r = [0.1, -0.1, 0.1, 0.2];
        // Mean 0.075; deviations 0.025, -0.175, 0.025, 0.125; squares sum
        // 0.0475; sample variance 0.0475 / 3; sd 0.125831...
        let sd = (0.0475f64 / 3.0).sqrt();
        assert!(close(sharpe(&r, 1.0).unwrap(), 0.075 / sd));
        assert!(close(sharpe(&r, 4.0).unwrap(), 2.0 * 0.075 / sd));
        // Downside: only -0.1; mean square 0.01 / 4 = 0.0025; deviation 0.05.
        assert!(close(sortino(&r, 1.0).unwrap(), 0.075 / 0.05));
        assert_eq!(sharpe(&[0.01, 0.01, 0.01], 1.0), None, "no variation");
        assert_eq!(sortino(&[0.01, 0.02], 1.0), None, "no losing period");
        assert_eq!(sharpe(&[0.01], 1.0), None);
    }

    #[test]
    fn drawdown_by_hand() {
        // Peak 110, trough 99: 10%. Later peaks are new highs.
        let (dd, at) = max_drawdown(&EQUITY);
        assert!(close(dd, 0.1));
        assert_eq!(at, 2);
        let series = drawdowns(&EQUITY);
        assert!(close(series[2], 0.1) && close(series[3], 0.01) && series[4] == 0.0);
        // Two falls: 100 → 80 (20%) and 120 → 90 (25%).
        let (dd, at) = max_drawdown(&[100.0, 80.0, 120.0, 90.0, 95.0]);
        assert!(close(dd, 0.25));
        assert_eq!(at, 3);
    }

    #[test]
    fn win_rate_and_profit_factor_by_hand() {
        let s = trip_stats(&[10.0, -5.0, 0.0, 20.0, -10.0]);
        assert_eq!((s.trades, s.wins), (5, 2));
        assert!(close(s.win_rate.unwrap(), 0.4));
        assert!(close(s.profit_factor.unwrap(), 2.0));
        let none = trip_stats(&[]);
        assert_eq!((none.win_rate, none.profit_factor), (None, None));
        assert_eq!(trip_stats(&[1.0]).profit_factor, None, "no loss");
        // Nothing won: 0, not -0 (which prints "-0.00").
        let lost = trip_stats(&[-1.0, -2.0]).profit_factor.unwrap();
        assert_eq!(format!("{lost:.2}"), "0.00");
    }
}
