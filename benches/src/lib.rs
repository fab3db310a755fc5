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
