//! Helpers shared by autobot's benchmarks: statistics and machine notes.

/// Median of a set of measurements (sorts them).
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Pins the calling thread to `cpu`; says what happened. Pins by id rather
/// than through `core_affinity::get_core_ids()`, which lists only the CPUs
/// of the *calling* thread's mask: a thread spawned by an already pinned
/// thread would never find the other CPU, and both would spin on one core.
pub fn pin(cpu: usize) -> String {
    if core_affinity::set_for_current(core_affinity::CoreId { id: cpu }) {
        format!("CPU {cpu}")
    } else {
        "unpinned".to_string()
    }
}

/// One target line of `make bench`: what was asked, what this run measured
/// against its baseline (measured in the same process), and whether it is
/// met. Every part of the target must hold.
pub fn target(what: &str, parts: &[(&str, f64, f64)]) -> String {
    let met = parts.iter().all(|(_, got, want)| got >= want);
    let figures: Vec<String> = parts
        .iter()
        .map(|(name, got, want)| {
            let want = format!("{want:.3}");
            let want = want.trim_end_matches('0').trim_end_matches('.');
            format!("{name} {got:.2} (>= {want})")
        })
        .collect();
    format!(
        "  target: {what}: {} — {}",
        figures.join(", "),
        if met { "met" } else { "NOT met" }
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_target_is_met_only_when_every_part_is() {
        let line = super::target("x", &[("a", 3.0, 2.0), ("b", 0.5, 0.65)]);
        assert_eq!(
            line,
            "  target: x: a 3.00 (>= 2), b 0.50 (>= 0.65) — NOT met"
        );
        assert!(super::target("x", &[("a", 2.0, 2.0)]).ends_with("— met"));
    }
}
