//! `autobot backtest --sweep … | --walk-forward K`.

use anyhow::Context as _;
use autobot_tools::config::AppConfig;

/// `autobot backtest --sweep ... | --walk-forward K`.
pub fn backtest_grid(
    config: &std::path::Path,
    cfg: &AppConfig,
    data: &autobot_tools::backtest::run::DataSource,
    sweep: &[String],
    walk_forward: Option<u32>,
    jobs: usize,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    use autobot_tools::backtest::{run, sweep as grid};
    let axes = sweep
        .iter()
        .map(|s| s.parse::<grid::Axis>())
        .collect::<Result<Vec<_>, _>>()?;
    let points = grid::grid(config, &axes)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let write = |name: &str, text: String| {
        let path = out.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    };
    let began = std::time::Instant::now();
    if let Some(folds) = walk_forward {
        // Every 64th input's time: windows within 64 inputs of equal.
        let times = run::data_times(cfg, data, 64)?;
        eprintln!(
            "walk-forward: {folds} folds x {} grid points on {jobs} threads",
            points.len()
        );
        let wf = grid::walk_forward(&points, data, &times, folds, jobs, out)?;
        write(
            "walk_forward.json",
            autobot_tools::backtest::report::pretty_json(&wf),
        )?;
        print!("{}", grid::walk_forward_table(&points, &wf));
    } else {
        eprintln!("sweep: {} grid points on {jobs} threads", points.len());
        let outcomes = grid::sweep(&points, data, jobs, out)?;
        write(
            "sweep.json",
            autobot_tools::backtest::report::pretty_json(&outcomes),
        )?;
        write("sweep.csv", grid::outcomes_csv(&outcomes))?;
        print!("{}", grid::sweep_table(&outcomes));
    }
    eprintln!(
        "done in {:.1} s; reports in {}",
        began.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}
