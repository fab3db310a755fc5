//! `autobot backtest --sweep … [--shard K/N] | --walk-forward K` and
//! `autobot sweep merge`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use autobot_tools::backtest::report::pretty_json;
use autobot_tools::backtest::{run, shard, sweep as grid};
use autobot_tools::config::AppConfig;

/// What kind of grid run: the axes, walk-forward folds, the slice.
pub struct Grid<'a> {
    /// `--sweep` axes as given.
    pub sweep: &'a [String],
    /// `--walk-forward K`.
    pub walk_forward: Option<u32>,
    /// `--shard K/N`.
    pub shard: Option<shard::Shard>,
    /// Backtests at once.
    pub jobs: usize,
}

fn write(out: &Path, name: &str, text: &str) -> anyhow::Result<()> {
    let path = out.join(name);
    autobot_tools::whole::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

/// `autobot backtest --sweep ... | --walk-forward K`.
pub fn backtest_grid(
    config: &Path,
    cfg: &AppConfig,
    data: &run::DataSource,
    g: &Grid<'_>,
    out: &Path,
) -> anyhow::Result<()> {
    let jobs = g.jobs;
    let axes = g
        .sweep
        .iter()
        .map(|s| s.parse::<grid::Axis>())
        .collect::<Result<Vec<_>, _>>()?;
    let points = grid::grid(config, &axes)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let began = std::time::Instant::now();
    if let Some(folds) = g.walk_forward {
        // Every 64th input's time: windows within 64 inputs of equal.
        let times = run::data_times(cfg, data, 64)?;
        eprintln!(
            "walk-forward: {folds} folds x {} grid points on {jobs} threads",
            points.len()
        );
        let wf = grid::walk_forward(&points, data, &times, folds, jobs, out)?;
        write(out, "walk_forward.json", &pretty_json(&wf))?;
        print!("{}", grid::walk_forward_table(&points, &wf));
    } else if let Some(slice) = g.shard {
        let grid_id = shard::fingerprint(config, &axes, data)
            .with_context(|| format!("reading {} and the data", config.display()))?;
        let indices = slice.indices(points.len());
        eprintln!(
            "sweep shard {slice}: {} of {} grid points on {jobs} threads",
            indices.len(),
            points.len()
        );
        let outcomes = grid::sweep_points(&points, &indices, data, jobs, out)?;
        let file = shard::ShardFile {
            shard: slice.k,
            of: slice.of,
            points: points.len(),
            grid: grid_id,
            outcomes: indices
                .iter()
                .zip(&outcomes)
                .map(|(&point, o)| shard::Indexed {
                    point,
                    outcome: o.clone(),
                })
                .collect(),
        };
        write(out, "shard.json", &pretty_json(&file))?;
        print!("{}", grid::points_table(&indices, &outcomes));
    } else {
        eprintln!("sweep: {} grid points on {jobs} threads", points.len());
        let outcomes = grid::sweep(&points, data, jobs, out)?;
        write(out, "sweep.json", &pretty_json(&outcomes))?;
        write(out, "sweep.csv", &grid::outcomes_csv(&outcomes))?;
        print!("{}", grid::sweep_table(&outcomes));
    }
    eprintln!(
        "done in {:.1} s; reports in {}",
        began.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

/// `autobot sweep merge DIR... --out OUT`.
pub fn merge(dirs: &[PathBuf], out: &Path, w: &mut impl Write) -> anyhow::Result<()> {
    let outcomes = shard::merge(dirs)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let copied = shard::gather_reports(dirs, out)?;
    write(out, "sweep.json", &pretty_json(&outcomes))?;
    write(out, "sweep.csv", &grid::outcomes_csv(&outcomes))?;
    write!(w, "{}", grid::sweep_table(&outcomes))?;
    eprintln!(
        "merged {} shards, {} points ({} reports copied) into {}",
        dirs.len(),
        outcomes.len(),
        copied,
        out.display()
    );
    Ok(())
}
