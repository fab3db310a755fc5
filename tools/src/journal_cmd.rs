//! `autobot journal inspect | verify | dump | export | salvage`.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use autobot_engine::event::{InputBody, InputEvent, input_from_bytes};
use autobot_engine::runtime::stamps::{
    CoreStamp, KIND_CORE_STAMPS, KIND_SENT_STAMPS, SentStamp, StampEntry, decode_record,
};
use autobot_engine::runtime::{Checkpoint, KIND_DIGEST};
use autobot_journal::{Journal, Record};

use crate::parquet_table::{Kind, TableWriter};
use crate::position::{Position, format_utc};
use crate::text::group;

pub use crate::text::journal_dir;

fn decode(rec: &Record<'_>) -> anyhow::Result<InputEvent> {
    input_from_bytes(rec.payload).map_err(|e| {
        anyhow::anyhow!(
            "input {} (segment {}, offset {}): {}",
            rec.meta.seq,
            rec.segment,
            rec.offset,
            e.0
        )
    })
}

/// Segments, records, times, checkpoints, and any torn tail.
pub fn inspect(dir: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    let dir = journal_dir(dir);
    // A damaged journal is inspected up to its damage, which is named.
    let j = Journal::open_intact(&dir)?;
    writeln!(out, "journal {}", dir.display())?;
    if let Some(d) = j.damage() {
        writeln!(
            out,
            "  DAMAGED: {d} (what follows describes them; `autobot journal salvage` copies them)"
        )?;
    }
    writeln!(
        out,
        "  {:<26} {:>4} {:>14} {:>12} {:>11} {:>12}  state",
        "segment", "id", "first seq", "inputs", "checkpoints", "used"
    )?;
    for s in j.segments() {
        let name = s
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into());
        let state = match (s.scan.sealed, s.scan.torn, s.short) {
            (_, _, Some(len)) => format!("cut short to {len} of {} bytes", s.header.size),
            (true, _, _) => "sealed".into(),
            (false, Some(t), _) => format!("torn record at {} ({})", t.offset, t.reason),
            (false, None, _) => "open".into(),
        };
        writeln!(
            out,
            "  {name:<26} {:>4} {:>14} {:>12} {:>11} {:>5.1}/{:.0} MiB  {state}",
            s.header.segment_id,
            s.header.first_seq,
            group(s.scan.inputs),
            s.scan.metas,
            s.scan.end as f64 / 1048576.0,
            s.header.size as f64 / 1048576.0
        )?;
    }
    let (mut first_t, mut last_t, mut checkpoints) = (None, 0u64, Vec::new());
    let mut stamp_records = 0u64;
    for r in j.records() {
        if r.meta.is_meta() {
            checkpoints.extend(Checkpoint::from_record(&r));
            stamp_records += u64::from(matches!(r.meta.kind, KIND_CORE_STAMPS | KIND_SENT_STAMPS));
        } else if r.meta.exchange > 0 {
            first_t.get_or_insert(r.meta.exchange);
            last_t = last_t.max(r.meta.exchange);
        }
    }
    writeln!(
        out,
        "inputs {}..{} ({})",
        j.first_seq(),
        j.next_seq(),
        group(j.next_seq() - j.first_seq())
    )?;
    if let Some(f) = first_t {
        writeln!(
            out,
            "exchange time {} .. {}",
            format_utc(f),
            format_utc(last_t)
        )?;
    }
    match checkpoints.last() {
        Some(cp) => writeln!(
            out,
            "{} digest checkpoints; last after input {}: {:016x} ({} outputs)",
            checkpoints.len(),
            cp.last_seq,
            cp.digest,
            group(cp.outputs)
        )?,
        None => writeln!(out, "no digest checkpoint")?,
    }
    writeln!(
        out,
        "{} latency stamp records (core start, decision out, order sent)",
        group(stamp_records)
    )?;
    Ok(())
}

/// A stamp record's payload decodes, and no stamp is about an input after
/// the record's sequence (its highest).
fn check_stamps<T: StampEntry>(r: &Record<'_>) -> anyhow::Result<()> {
    let stamps = decode_record::<T>(r).map_err(anyhow::Error::msg)?;
    if let Some(s) = stamps.iter().find(|s| s.seq().0 > r.meta.seq) {
        anyhow::bail!(
            "stamp record at segment {}, offset {}: a stamp of input {} in a record for inputs up to {}",
            r.segment,
            r.offset,
            s.seq(),
            r.meta.seq
        );
    }
    Ok(())
}

/// Full validation: every checksum and sequence (on open) and every payload.
pub fn verify(dir: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    let dir = journal_dir(dir);
    let j = Journal::open(&dir).map_err(|e| {
        anyhow::anyhow!(
            "{e}\n  `autobot journal inspect` shows what is readable before it; `autobot journal salvage` copies that"
        )
    })?;
    let mut n = 0u64;
    for r in j.records() {
        if r.meta.is_meta() {
            match r.meta.kind {
                KIND_DIGEST if Checkpoint::decode(r.payload).is_none() => {
                    anyhow::bail!("checkpoint after input {}: bad payload", r.meta.seq)
                }
                KIND_CORE_STAMPS => check_stamps::<CoreStamp>(&r)?,
                KIND_SENT_STAMPS => check_stamps::<SentStamp>(&r)?,
                _ => {}
            }
            continue;
        }
        let ev = decode(&r)?;
        anyhow::ensure!(
            ev.body.kind_index() == usize::from(r.meta.kind),
            "input {}: header kind {} but payload kind {}",
            r.meta.seq,
            r.meta.kind,
            ev.body.kind_index()
        );
        n += 1;
    }
    write!(
        out,
        "ok: {} segments, {} inputs",
        j.segments().len(),
        group(n)
    )?;
    match j.torn() {
        Some((p, t)) => writeln!(
            out,
            "; {} ends in an incomplete record at offset {} ({}), which recovery will remove",
            p.display(),
            t.offset,
            t.reason
        )?,
        None => writeln!(out)?,
    }
    Ok(())
}

fn range(j: &Journal, from: Option<Position>, until: Option<Position>) -> (u64, u64) {
    (
        from.map_or(j.first_seq(), |p| p.seq_in(j, false)),
        until.map_or(u64::MAX, |p| p.seq_in(j, true)),
    )
}

/// One readable line per record.
pub fn dump(
    dir: &Path,
    from: Option<Position>,
    until: Option<Position>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let j = crate::position::open_until(&journal_dir(dir), until, &mut std::io::stderr())?;
    let (from, until) = range(&j, from, until);
    for r in j.records_from(from) {
        if r.meta.seq > until {
            break;
        }
        if r.meta.is_meta() {
            match r.meta.kind {
                KIND_CORE_STAMPS => {
                    for s in decode_record::<CoreStamp>(&r).map_err(anyhow::Error::msg)? {
                        writeln!(
                            out,
                            "-- #{} core start {}, decision out {} after recv",
                            s.seq,
                            since(s.start),
                            since(s.done)
                        )?;
                    }
                }
                KIND_SENT_STAMPS => {
                    for s in decode_record::<SentStamp>(&r).map_err(anyhow::Error::msg)? {
                        writeln!(
                            out,
                            "-- #{} caused an order sent {} after recv",
                            s.cause,
                            since(s.sent)
                        )?;
                    }
                }
                _ => {}
            }
            if let Some(cp) = Checkpoint::from_record(&r) {
                writeln!(
                    out,
                    "-- checkpoint after #{}: digest {:016x}, {} outputs{}",
                    cp.last_seq,
                    cp.digest,
                    cp.outputs,
                    if cp.dense {
                        ""
                    } else {
                        " (resumed: not dense)"
                    }
                )?;
            }
            continue;
        }
        let ev = decode(&r)?;
        let st = ev.header.stamps;
        writeln!(
            out,
            "#{} {} {:?} sym {} recv {} (parsed {}, published {}, journaled {}) exch {} {}",
            r.meta.seq,
            InputBody::KIND_NAMES[ev.body.kind_index()],
            ev.header.source,
            ev.header.symbol,
            ev.header.recv,
            since(st.parsed),
            since(st.published),
            since(st.journaled),
            format_utc(ev.header.exchange.0),
            serde_json::to_string(&ev.body)?
        )?;
    }
    Ok(())
}

/// A stamp (nanoseconds after `recv`) as `+1.234 µs`; 0 is "not stamped".
/// One fixed unit (not [`crate::latency::ns`]'s best-reading one), so the
/// stamps of a dump's lines compare by eye and sort and filter as numbers.
fn since(ns: u32) -> String {
    if ns == 0 {
        "-".into()
    } else {
        format!("+{:.3} µs", f64::from(ns) / 1e3)
    }
}

/// Export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per input: header fields and the event.
    Jsonl,
    /// Fixed columns; fields a kind lacks are empty.
    Csv,
    /// The CSV's columns as a Parquet table (needs `--out`): times and
    /// ids as integers, prices, quantities and fees as exact decimals, a
    /// field a kind lacks null.
    Parquet,
}

/// The Parquet types of [`CSV_HEADER`]'s columns.
const PARQUET_KINDS: [Kind; 16] = [
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Text,
    Kind::Int,
    Kind::Text,
    Kind::Decimal,
    Kind::Decimal,
    Kind::Decimal,
    Kind::Decimal,
    Kind::Decimal,
    Kind::Decimal,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Decimal,
];

const CSV_HEADER: &str = "seq,recv_ns,exchange_ns,source,symbol,kind,price,qty,bid_price,bid_qty,ask_price,ask_qty,side,order_id,status,fee";

fn csv_row(ev: &InputEvent) -> Vec<String> {
    let h = &ev.header;
    let mut cols: [String; 10] = Default::default();
    match &ev.body {
        InputBody::BookTicker(t) => {
            cols[2] = t.bid_price.to_string();
            cols[3] = t.bid_qty.to_string();
            cols[4] = t.ask_price.to_string();
            cols[5] = t.ask_qty.to_string();
        }
        InputBody::AggTrade(t) => {
            cols[0] = t.price.to_string();
            cols[1] = t.qty.to_string();
            cols[6] = if t.buyer_is_maker { "SELL" } else { "BUY" }.into();
            cols[7] = t.trade_id.to_string();
        }
        InputBody::OrderUpdate(u) => {
            cols[0] = u.last_price.to_string();
            cols[1] = u.last_qty.to_string();
            cols[6] = u.side.to_string();
            cols[7] = u.client_id.to_string();
            cols[8] = format!("{:?}", u.status);
            cols[9] = u.fee.to_string();
        }
        InputBody::OrderRejected(r) => {
            cols[7] = r.client_id.to_string();
            cols[8] = format!("{:?}({})", r.reason, r.code);
        }
        InputBody::MarkPrice(m) => cols[0] = m.mark_price.to_string(),
        InputBody::Funding(f) => cols[0] = f.mark.to_string(),
        InputBody::Kline(k) => {
            cols[0] = k.close.to_string();
            cols[1] = k.volume.to_string();
        }
        InputBody::Liquidation(l) => {
            cols[0] = l.price.to_string();
            cols[1] = l.filled_qty.to_string();
            cols[6] = l.side.to_string();
        }
        // The score as a probability in the price column.
        InputBody::Prediction(p) => cols[0] = format!("{:.6}", f64::from(p.score) / 1e6),
        InputBody::Depth(_)
        | InputBody::AccountUpdate(_)
        | InputBody::Operator(_)
        | InputBody::Timer(_)
        | InputBody::FeedStatus(_) => {}
    }
    let head = [
        h.seq.to_string(),
        h.recv.to_string(),
        h.exchange.to_string(),
        format!("{:?}", h.source),
        h.symbol.to_string(),
        InputBody::KIND_NAMES[ev.body.kind_index()].to_string(),
    ];
    head.into_iter().chain(cols).collect()
}

/// Calls `f` with the inputs of the journal in `dir` in the range.
fn with_inputs<R>(
    dir: &Path,
    from: Option<Position>,
    until: Option<Position>,
    f: impl FnOnce(&mut dyn Iterator<Item = anyhow::Result<InputEvent>>) -> anyhow::Result<R>,
) -> anyhow::Result<R> {
    let j = crate::position::open_until(&journal_dir(dir), until, &mut std::io::stderr())?;
    let (from, until) = range(&j, from, until);
    let mut events = j
        .records_from(from)
        .take_while(|r| r.meta.seq <= until)
        .filter(|r| !r.meta.is_meta())
        .map(|r| decode(&r));
    f(&mut events)
}

/// Writes every input in the range as JSON lines or CSV ([`export_parquet`]
/// writes Parquet).
pub fn export(
    dir: &Path,
    format: Format,
    from: Option<Position>,
    until: Option<Position>,
    out: &mut dyn Write,
) -> anyhow::Result<u64> {
    with_inputs(dir, from, until, |events| {
        let mut n = 0;
        match format {
            Format::Jsonl => {
                for ev in events {
                    serde_json::to_writer(&mut *out, &ev?).context("writing JSON")?;
                    writeln!(out)?;
                    n += 1;
                }
            }
            Format::Csv => {
                // Fields with commas or quotes are quoted (the `csv` crate).
                let mut csv = csv::Writer::from_writer(out);
                csv.write_record(CSV_HEADER.split(','))?;
                for ev in events {
                    csv.write_record(csv_row(&ev?))?;
                    n += 1;
                }
                csv.flush()?;
            }
            Format::Parquet => {
                anyhow::bail!(
                    "--format parquet writes a binary file: give it with --out FILE.parquet"
                )
            }
        }
        Ok(n)
    })
}

/// Writes every input in the range as a Parquet table: the CSV's columns
/// ([`PARQUET_KINDS`]), the journal named in the schema's metadata.
pub fn export_parquet(
    dir: &Path,
    from: Option<Position>,
    until: Option<Position>,
    out: impl Write + Send,
) -> anyhow::Result<u64> {
    with_inputs(dir, from, until, |events| {
        let columns: Vec<(&str, Kind)> = CSV_HEADER.split(',').zip(PARQUET_KINDS).collect();
        let meta = [("source", journal_dir(dir).display().to_string())];
        let mut t = TableWriter::new(out, &columns, &meta)?;
        for ev in events {
            t.push(&csv_row(&ev?))?;
        }
        Ok(t.finish()?)
    })
}

/// Copies the intact records of the journal in `dir` into `to` (see
/// [`autobot_journal::salvage`]); a run directory's `config.toml` comes
/// along, the copy's journal then in `to/journal`.
pub fn salvage(
    dir: &Path,
    to: &Path,
    skip_damaged: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let src = journal_dir(dir);
    let run_config = dir.join("config.toml");
    let run_dir = src != dir && run_config.is_file();
    let dst = if run_dir {
        to.join("journal")
    } else {
        to.to_path_buf()
    };
    // The copy keeps the source's segment size (the first segment says it).
    let segment_size = Journal::open_intact(&src)
        .ok()
        .and_then(|j| j.segments().first().map(|s| s.header.size))
        .unwrap_or(64 << 20);
    let report = autobot_journal::salvage(
        &src,
        autobot_journal::AppenderConfig {
            dir: dst.clone(),
            segment_size,
            durability: autobot_journal::Durability::EveryBatch,
        },
        skip_damaged,
    )
    .with_context(|| format!("salvaging {}", src.display()))?;
    if run_dir {
        std::fs::copy(&run_config, to.join("config.toml"))
            .with_context(|| format!("copying {}", run_config.display()))?;
    }
    match &report.damage {
        None => writeln!(out, "{} is whole: copied it all", src.display())?,
        Some(d) => writeln!(out, "damage: {d}")?,
    }
    writeln!(
        out,
        "copied {} inputs and {} checkpoint/stamp records into {}",
        group(report.inputs),
        group(report.metas),
        dst.display()
    )?;
    for g in &report.gaps {
        writeln!(
            out,
            "gap: inputs {}..{} lost; resumed at {} offset {}",
            g.from_seq,
            g.to_seq,
            g.resumed_at.0.display(),
            g.resumed_at.1
        )?;
    }
    for (path, offset, why) in &report.unreadable {
        writeln!(
            out,
            "also damaged: {} at offset {offset}: {why}",
            path.display()
        )?;
    }
    if report.dropped_metas > 0 {
        writeln!(
            out,
            "{} checkpoint/stamp records after the first gap not copied (their digests cover lost inputs)",
            group(report.dropped_metas)
        )?;
    }
    if report.damage.is_some() && !skip_damaged {
        writeln!(
            out,
            "(--skip-damaged also copies the readable records after the damage)"
        )?;
    }
    Ok(())
}
