//! What a backtest can leave besides its report: a trace of every decision
//! (`--trace`, `OUT/trace.txt` or `trace.jsonl`, the same text `autobot
//! replay --trace` prints) and a journal of every input its core processed
//! (`--keep-journal`, `OUT/journal`, beside the report's `OUT/config.toml`): the data,
//! the bar quotes and the simulated exchange's reports, so `autobot replay
//! OUT` explains the backtest input by input, with the same trace.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use autobot_engine::core::Core;
use autobot_engine::event::{InputEvent, OutputEvent};
use autobot_engine::runtime::Journaller;
use autobot_engine::trace::Tracer;

use super::run::{BacktestError, Observe, Observer};
use crate::config::AppConfig;
use crate::replay::{TraceFormat, TraceOpts};

/// What to leave.
#[derive(Clone, Debug, Default)]
pub struct Keep {
    /// A trace, with these options.
    pub trace: Option<TraceOpts>,
    /// A journal of every input.
    pub journal: bool,
}

/// The first failure of the observer (it cannot return one mid-run).
pub type Failure = Arc<Mutex<Option<String>>>;

/// The observer `keep` asks for over the data's `symbols`, writing into
/// `out`; `None` when nothing is kept. Failures land in the returned
/// [`Failure`], to check after the run.
pub fn observer(
    keep: &Keep,
    cfg: &AppConfig,
    symbols: &[String],
    out: &Path,
) -> Result<(Option<Observer>, Failure), BacktestError> {
    let failure: Failure = Arc::default();
    if keep.trace.is_none() && !keep.journal {
        return Ok((None, failure));
    }
    let setup = |what: &str, e: &dyn std::fmt::Display| BacktestError::Keep(format!("{what}: {e}"));
    std::fs::create_dir_all(out).map_err(|e| setup(&out.display().to_string(), &e))?;
    // The configuration as the backtest's core has it: the data's symbols.
    let run_cfg = super::run::effective_config(cfg, symbols);
    let tracer = match &keep.trace {
        Some(opts) => {
            let t = opts
                .tracer(&run_cfg, &autobot_engine::core::CoreStats::default())
                .map_err(|e| setup("--trace", &e))?;
            let name = match opts.format {
                TraceFormat::Text => "trace.txt",
                TraceFormat::Jsonl => "trace.jsonl",
            };
            let path = out.join(name);
            let file =
                std::fs::File::create(&path).map_err(|e| setup(&path.display().to_string(), &e))?;
            Some((t, std::io::BufWriter::new(file), path))
        }
        None => None,
    };
    let journal = if keep.journal {
        let dir = out.join("journal");
        if dir.exists() {
            return Err(setup(
                &dir.display().to_string(),
                &"already holds a journal",
            ));
        }
        // config.toml beside it comes with the report (`output::write`).
        let (j, _) = Journaller::open(autobot_engine::runtime::appender_config(
            &run_cfg.journal,
            &dir,
        ))
        .map_err(|e| setup(&dir.display().to_string(), &e))?;
        Some((j, dir))
    } else {
        None
    };
    let observer = Keeper {
        tracer,
        journal,
        failure: Arc::clone(&failure),
        text: String::new(),
        seen: 0,
    };
    Ok((Some(Box::new(observer)), failure))
}

/// The trace file and the journal being written.
struct Keeper {
    tracer: Option<(Tracer, std::io::BufWriter<std::fs::File>, PathBuf)>,
    journal: Option<(Journaller, PathBuf)>,
    failure: Failure,
    text: String,
    seen: u64,
}

impl Keeper {
    fn fail(&self, what: &Path, e: &dyn std::fmt::Display) {
        let mut f = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        f.get_or_insert_with(|| format!("{}: {e}", what.display()));
    }
}

impl Observe for Keeper {
    fn input(&mut self, ev: &InputEvent, core: &Core, outputs: &[OutputEvent]) {
        let mut failed: Option<(PathBuf, String)> = None;
        if let Some((j, dir)) = self.journal.as_mut() {
            let mut copy = *ev;
            self.seen += 1;
            let r = j.append(&mut copy).and_then(|()| {
                if self.seen.is_multiple_of(4096) {
                    j.end_batch()
                } else {
                    Ok(())
                }
            });
            if let Err(e) = r {
                failed = Some((dir.clone(), e.to_string()));
            }
        }
        if let Some((t, w, path)) = self.tracer.as_mut() {
            self.text.clear();
            t.input(ev, core, outputs, &mut self.text);
            if let Err(e) = w.write_all(self.text.as_bytes()) {
                failed = Some((path.clone(), e.to_string()));
            }
        }
        if let Some((what, e)) = failed {
            self.fail(&what, &e);
        }
    }

    fn finish(&mut self, _core: &Core) {
        let mut failed: Option<(PathBuf, String)> = None;
        if let Some((j, dir)) = self.journal.as_mut()
            && let Err(e) = j.end_batch()
        {
            failed = Some((dir.clone(), e.to_string()));
        }
        if let Some((t, w, path)) = self.tracer.as_mut() {
            self.text.clear();
            t.flush(&mut self.text);
            if let Err(e) = w.write_all(self.text.as_bytes()).and_then(|()| w.flush()) {
                failed = Some((path.clone(), e.to_string()));
            }
        }
        if let Some((what, e)) = failed {
            self.fail(&what, &e);
        }
    }
}
