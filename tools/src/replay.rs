//! `autobot replay`: a journal through a fresh core, no gateways, as fast as
//! it goes; trace, dump the state, verify against the recorded digests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};
use autobot_engine::core::Core;
use autobot_engine::replay::{Collect, feed};
use autobot_engine::types::Seq;
use autobot_journal::Journal;

use crate::config::AppConfig;
use crate::position::Position;
use crate::text::group;

/// What to replay and how (also the arguments of `autobot replay`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReplayArgs {
    /// Run directory (journal/ and config.toml inside) or journal directory.
    pub dir: PathBuf,
    /// Start tracing at this input: a sequence or a UTC time such as
    /// 2024-01-01T00:00:05Z (earlier inputs are still fed, silently).
    #[arg(long, value_name = "SEQ|TIME")]
    pub from: Option<Position>,
    /// Stop after this input (a sequence or a UTC time).
    #[arg(long, value_name = "SEQ|TIME")]
    pub until: Option<Position>,
    /// Use this configuration instead of the run's (a what-if replay).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Exit non-zero if the replay's output digest departs from the recorded
    /// one, naming the first divergent input.
    #[arg(long)]
    pub verify: bool,
    /// Print every output with the input that caused it, in words: names,
    /// decimals, each at its own time; strategy entries not taken counted
    /// per reason per second.
    #[arg(long)]
    pub trace: bool,
    /// What the trace looks at and how it prints.
    #[command(flatten)]
    pub trace_opts: TraceOpts,
    /// Print the core's state after input SEQ as JSON, then stop.
    #[arg(long, value_name = "SEQ")]
    pub dump_state: Option<u64>,
    /// Start from the newest valid snapshot at or before the point of
    /// interest (a damaged one falls back to an older one, or to the start).
    #[arg(long)]
    pub snapshot: bool,
}

/// The journal directory, the config, and the snapshots directory of a target.
pub(crate) fn locate(
    dir: &Path,
    config: Option<&Path>,
) -> anyhow::Result<(PathBuf, AppConfig, Option<PathBuf>)> {
    anyhow::ensure!(
        dir.exists(),
        "{}: no such directory; give a run directory (runs/<time>-seed<seed>) or a journal directory",
        dir.display()
    );
    let snapshots = dir.join("snapshots");
    let snapshots = snapshots.is_dir().then_some(snapshots);
    let journal = crate::text::journal_dir(dir);
    let default_cfg = (journal != dir).then(|| dir.join("config.toml"));
    let cfg_path = match (config, default_cfg) {
        (Some(c), _) => c.to_path_buf(),
        (None, Some(c)) => c,
        (None, None) => bail!(
            "{}: not a run directory (no journal/ inside); for a bare journal directory give --config",
            dir.display()
        ),
    };
    Ok((journal, AppConfig::load(&cfg_path)?, snapshots))
}

/// Runs a replay, writing its report (and trace or state) to `out`.
/// Returns `Ok(false)` when `--verify` found a divergence.
pub fn run(args: &ReplayArgs, out: &mut dyn Write) -> anyhow::Result<bool> {
    let (dir, cfg, snapshots) = locate(&args.dir, args.config.as_deref())?;
    let until_arg = match (args.until, args.dump_state) {
        (Some(Position::Seq(u)), Some(s)) => Some(Position::Seq(u.min(s))),
        (None, Some(s)) => Some(Position::Seq(s)),
        (u, _) => u,
    };
    let journal = crate::position::open_until(&dir, until_arg, out)?;
    if let Some((path, t)) = journal.torn() {
        writeln!(
            out,
            "note: {} ends in an incomplete record at offset {} ({}); replaying what precedes it",
            path.display(),
            t.offset,
            t.reason
        )?;
    }
    let from = args.from.map_or(0, |p| p.seq_in(&journal, false));
    let mut until = args.until.map(|p| p.seq_in(&journal, true));
    if let Some(s) = args.dump_state {
        until = Some(until.map_or(s, |u| u.min(s)));
    }
    let core_cfg = cfg.core();
    let began = Instant::now();
    let range = (from, until);
    let (mut core, start) =
        starting_core(args, &journal, snapshots.as_deref(), &core_cfg, range, out)?;
    let mut sink = Collect::default();
    let mut tracer = args
        .trace
        .then(|| args.trace_opts.tracer(&cfg, core.stats()))
        .transpose()?;
    let mut write_err = None;
    let mut text = String::new();
    let report = feed(
        &journal,
        &mut core,
        start,
        until.map(Seq),
        &mut sink,
        |ev, core, sink| {
            if let Some(t) = tracer.as_mut().filter(|_| ev.header.seq.0 >= from) {
                text.clear();
                t.input(ev, core, &sink.0, &mut text);
                if !text.is_empty()
                    && write_err.is_none()
                    && let Err(e) = out.write_all(text.as_bytes())
                {
                    write_err = Some(e);
                }
            }
            sink.0.clear();
        },
    )?;
    if let Some(t) = tracer.as_mut()
        && write_err.is_none()
    {
        text.clear();
        t.flush(&mut text);
        if let Err(e) = out.write_all(text.as_bytes()) {
            write_err = Some(e);
        }
    }
    match write_err {
        // The reader has gone (`| head`): what it wanted was written.
        Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(true),
        Some(e) => return Err(e).context("writing the trace"),
        None => {}
    }
    let secs = began.elapsed().as_secs_f64().max(1e-9);
    if let Some(s) = args.dump_state {
        if core.last_seq() != Some(Seq(s)) {
            bail!(
                "input {s} is not in the journal (it ends before {})",
                journal.next_seq()
            );
        }
        writeln!(out, "{}", serde_json::to_string_pretty(&core.view())?)?;
        return Ok(true);
    }
    writeln!(
        out,
        "replayed {} inputs{} in {:.2} s ({:.2} M inputs/s)",
        group(report.events),
        report
            .last_seq
            .map_or(String::new(), |s| format!(" (0..={s})")),
        secs,
        report.events as f64 / secs / 1e6
    )?;
    writeln!(
        out,
        "output digest {:016x} over {} outputs",
        core.digest(),
        group(core.outputs())
    )?;
    let verdict = write_verdict(out, &report, args.verify)?;
    if let Some(d) = report
        .divergence
        .filter(autobot_engine::replay::Divergence::exact)
    {
        side_by_side(args, &journal, &cfg, d, out)?;
    }
    Ok(verdict)
}

/// The outputs of the first divergent input, recorded and replayed. The
/// journal keeps the outputs' digest, not the outputs: the recorded ones
/// are made again by replaying under the run's own configuration, and
/// shown only when that replay reaches the recorded digest at the input
/// (so they are the ones the run emitted).
fn side_by_side(
    args: &ReplayArgs,
    journal: &Journal,
    cfg: &AppConfig,
    d: autobot_engine::replay::Divergence,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let names = names_of(cfg);
    let (input, replayed, _) = outputs_at(journal, cfg, d.at)?;
    let what = input.map_or(String::new(), |ev| {
        format!(
            " ({} at {})",
            autobot_engine::trace::input_text(&ev.body, &names),
            autobot_engine::trace::utc(ev.header.exchange.0)
        )
    });
    writeln!(out, "input {}{what}:", d.at)?;
    let recorded = match args.config {
        Some(_) => {
            let (_, own, _) = locate(&args.dir, None)?;
            let (_, outputs, state) = outputs_at(journal, &own, d.at)?;
            (state == d.recorded).then_some(outputs)
        }
        None => None,
    };
    match recorded {
        Some(outputs) => list(out, "recorded (the run's config.toml)", &outputs, &names)?,
        None => writeln!(
            out,
            "  recorded: not in the journal (it keeps their digest), and the run's own \
             configuration does not make them again"
        )?,
    }
    let label = match &args.config {
        Some(c) => format!("replayed ({})", c.display()),
        None => "replayed".to_string(),
    };
    list(out, &label, &replayed, &names)
}

/// An input (if the journal holds it), the outputs it caused, and the
/// core's digest and output count after it.
type AtInput = (
    Option<autobot_engine::event::InputEvent>,
    Vec<autobot_engine::event::OutputEvent>,
    (u64, u64),
);

/// The input `seq` of `journal`, the outputs it caused under `cfg`
/// (replayed from the start), and the digest and output count after it.
fn outputs_at(journal: &Journal, cfg: &AppConfig, seq: Seq) -> anyhow::Result<AtInput> {
    let mut core = Core::new(&cfg.core());
    let (mut input, mut outputs) = (None, Vec::new());
    feed(
        journal,
        &mut core,
        Seq(0),
        Some(seq),
        &mut Collect::default(),
        |ev, _, sink| {
            if ev.header.seq == seq {
                input = Some(*ev);
                outputs.clone_from(&sink.0);
            }
            sink.0.clear();
        },
    )?;
    Ok((input, outputs, (core.digest(), core.outputs())))
}

fn list(
    out: &mut dyn Write,
    label: &str,
    outputs: &[autobot_engine::event::OutputEvent],
    names: &autobot_engine::trace::Names,
) -> anyhow::Result<()> {
    if outputs.is_empty() {
        writeln!(out, "  {label}: no output")?;
        return Ok(());
    }
    writeln!(out, "  {label}:")?;
    for o in outputs {
        writeln!(
            out,
            "    {}",
            autobot_engine::trace::output_text(&o.body, names)
        )?;
    }
    Ok(())
}

fn names_of(cfg: &AppConfig) -> autobot_engine::trace::Names {
    autobot_engine::trace::Names {
        symbols: cfg
            .core()
            .instruments
            .iter()
            .map(|i| i.name.to_string())
            .collect(),
        strategies: cfg.strategy.names(),
        models: cfg.advisor.names(),
    }
}

/// What `--verify` found, in words; `Ok(false)` when it must fail.
fn write_verdict(
    out: &mut dyn Write,
    report: &autobot_engine::replay::ReplayReport,
    verify: bool,
) -> anyhow::Result<bool> {
    match report.divergence {
        Some(d) => {
            writeln!(
                out,
                "DIVERGED: after input {} the recorded digest is {:016x} ({} outputs), the replay's {:016x} ({} outputs)",
                d.at, d.recorded.0, d.recorded.1, d.replayed.0, d.replayed.1
            )?;
            if d.exact() {
                writeln!(out, "first divergent sequence: {}", d.at)?;
            } else {
                writeln!(
                    out,
                    "first divergent sequence: in {}..={} (the recording has no checkpoint \
                     between them: an earlier run crashed there)",
                    d.from, d.at
                )?;
            }
            Ok(!verify)
        }
        None if report.checkpoints_checked == 0 => {
            writeln!(
                out,
                "no recorded checkpoint within the replayed range: nothing verified"
            )?;
            Ok(!verify)
        }
        None => {
            writeln!(
                out,
                "verified: {} recorded checkpoints match the replay; the digest after {} of {} inputs was known and matched",
                group(report.checkpoints_checked),
                group(report.inputs_verified),
                group(report.events)
            )?;
            Ok(true)
        }
    }
}

/// The core replay starts from and the first input it is fed: a fresh
/// core, or with `--snapshot` the newest snapshot before the first input
/// to trace (or before `until`).
fn starting_core(
    args: &ReplayArgs,
    journal: &Journal,
    snapshots: Option<&Path>,
    core_cfg: &autobot_engine::config::CoreConfig,
    (from, until): (u64, Option<u64>),
    out: &mut dyn Write,
) -> anyhow::Result<(Core, Seq)> {
    if !args.snapshot {
        return Ok((Core::new(core_cfg), Seq(0)));
    }
    let before = match (from, until) {
        (0, _) => until,
        (f, Some(u)) => Some(u.min(f - 1)),
        (f, None) => Some(f - 1),
    };
    let snaps = snapshots.or(Some(&args.dir));
    let (snap_core, restored) =
        autobot_engine::snapshot::restore(journal, snaps, core_cfg, before.map(Seq))?;
    for s in &restored.skipped {
        writeln!(
            out,
            "note: skipped snapshot {}: {}",
            s.path.display(),
            s.reason
        )?;
    }
    match &restored.snapshot {
        Some((path, seq)) => {
            writeln!(
                out,
                "started from snapshot {} (after input {seq})",
                path.display()
            )?;
            let next = Seq(snap_core.last_seq().map_or(0, |s| s.0 + 1));
            Ok((snap_core, next))
        }
        None => {
            writeln!(out, "no usable snapshot: replaying from the first input")?;
            Ok((Core::new(core_cfg), Seq(0)))
        }
    }
}

/// `--format`, `--symbol`, `--strategy` and `--kind` of a trace.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct TraceOpts {
    /// Trace as text, or as JSON lines (one object per output).
    #[arg(long, value_enum, default_value = "text")]
    pub format: TraceFormat,
    /// Only lines about this symbol.
    #[arg(long, value_name = "SYMBOL")]
    pub symbol: Option<String>,
    /// Only lines of this strategy instance (its signals, and the audits
    /// and orders that follow them).
    #[arg(long, value_name = "NAME")]
    pub strategy: Option<String>,
    /// Only these kinds: signal, audit, order, fill, state, skipped, other, advice (predictions, feature vectors and what the advisor did).
    #[arg(long, value_name = "KIND,...", value_delimiter = ',')]
    pub kind: Vec<String>,
}

/// How a trace prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TraceFormat {
    /// Text for a person.
    #[default]
    Text,
    /// JSON lines for a program.
    Jsonl,
}

impl TraceOpts {
    /// A tracer for `cfg`'s symbols and strategies, refusing a name the
    /// configuration does not have.
    pub fn tracer(
        &self,
        cfg: &AppConfig,
        stats: &autobot_engine::core::CoreStats,
    ) -> anyhow::Result<autobot_engine::trace::Tracer> {
        use autobot_engine::trace::{Filter, Format, Kind, Tracer};
        let names = names_of(cfg);
        if let Some(s) = &self.symbol
            && !names.symbols.contains(s)
        {
            bail!(
                "--symbol {s}: not a configured symbol ({})",
                names.symbols.join(", ")
            );
        }
        if let Some(s) = &self.strategy
            && !names.strategies.contains(s)
        {
            bail!(
                "--strategy {s}: not a strategy instance ({})",
                names.strategies.join(", ")
            );
        }
        let kinds = self
            .kind
            .iter()
            .map(|k| {
                Kind::parse(k).ok_or_else(|| {
                    anyhow::anyhow!(
                        "--kind {k}: not a trace kind ({})",
                        Kind::ALL.map(|(_, n)| n).join(", ")
                    )
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let format = match self.format {
            TraceFormat::Text => Format::Text,
            TraceFormat::Jsonl => Format::Jsonl,
        };
        Ok(Tracer::new(
            names,
            Filter {
                symbol: self.symbol.clone(),
                strategy: self.strategy.clone(),
                kinds,
            },
            format,
            stats,
        ))
    }
}
