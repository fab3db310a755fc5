//! `autobot features`: the model feature vectors (`features::vector`, the
//! code the core hands the advisor) of every closed base bar of some data,
//! with forward-return labels, as CSV or Parquet (by the output's
//! extension) and a manifest naming every column, the list's version and
//! its hash. The Parquet file carries the hash, the version and the bar in
//! its own key-value metadata too, so it describes itself.
//!
//! Bars are the data's klines of the base interval (`strategy.bar_secs[0]`),
//! or candles built from its trades with the core's `Candles`. A label is
//! left empty where the bar `h` ahead does not exist or a gap in the data
//! lies between (a return across 21 months is no 5-bar return).

use std::collections::BTreeMap;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use autobot_engine::event::{InputBody, Kline};
use autobot_engine::features::candles::Candles;
use autobot_engine::features::vector::{self, FeatureVector};
use serde::Serialize;

use crate::backtest::run::{DataSource, data_inputs};
use crate::config::AppConfig;
use crate::whole::WholeFile;

/// One column of the output.
#[derive(Clone, Debug, Serialize)]
pub struct Column {
    /// Its header.
    pub name: String,
    /// What it is.
    pub meaning: String,
}

/// What the CSV holds, beside it as `<FILE>.manifest.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    /// Version of the feature list.
    pub feature_version: u32,
    /// FNV-1a 64 of the version and the feature names, as 16 hex digits:
    /// what a model's registry entry must name.
    pub feature_hash: String,
    /// Base bar, seconds.
    pub bar_secs: u32,
    /// Label horizons, bars.
    pub horizons: Vec<u32>,
    /// Every column, in order.
    pub columns: Vec<Column>,
    /// Rows written.
    pub rows: u64,
    /// Rows per symbol.
    pub per_symbol: BTreeMap<String, u64>,
    /// The data read.
    pub source: Vec<String>,
}

struct Row {
    close_ms: u64,
    close: f64,
    features: [f64; vector::N],
}

/// One output row: a symbol's bar and its labels.
struct Labelled<'a> {
    symbol: &'a str,
    row: &'a Row,
    labels: Vec<Option<f64>>,
}

/// Writes the features of `data` to `out` (Parquet when it ends in
/// `.parquet`, else CSV) and its manifest.
pub fn export(
    cfg: &AppConfig,
    data: &DataSource,
    out: &Path,
    horizons: &[u32],
) -> anyhow::Result<Manifest> {
    let bar_secs = cfg.strategy.bar_secs.first().copied().unwrap_or(60);
    let (inputs, symbols) = data_inputs(cfg, data)?;
    let n = symbols.len();
    let mut vectors = vec![FeatureVector::new(); n];
    let mut candles: Vec<Candles> = (0..n).map(|_| Candles::new(&[bar_secs])).collect();
    let mut rows: Vec<Vec<Row>> = (0..n).map(|_| Vec::new()).collect();
    inputs.for_each(|ev| {
        let i = usize::from(ev.header.symbol.0);
        if i >= n {
            return ControlFlow::Continue(());
        }
        match ev.body {
            InputBody::Kline(k) if k.interval_secs == bar_secs => {
                take(&mut vectors[i], &mut rows[i], &k)
            }
            InputBody::AggTrade(t) => {
                let mut closed = Vec::new();
                candles[i].update(ev.header.exchange, &t, |_, k| closed.push(*k));
                for k in closed {
                    take(&mut vectors[i], &mut rows[i], &k);
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    })?;
    let mut columns = vec![
        col("symbol", "the symbol"),
        col("close_time", "the bar's close, UTC"),
        col("close_ms", "the bar's close, Unix ms"),
        col("close", "the bar's close price"),
    ];
    columns.extend(vector::FEATURES.iter().map(|(n, m)| col(n, m)));
    for h in horizons {
        columns.push(col(
            &format!("fwd_ret_{h}"),
            &format!(
                "log return of the close {h} bars ahead (empty: no such bar, or a gap between)"
            ),
        ));
    }
    let mut per_symbol = BTreeMap::new();
    let step = u64::from(bar_secs) * 1000;
    let mut table = Vec::new();
    for (i, series) in rows.iter().enumerate() {
        for (k, r) in series.iter().enumerate() {
            let labels = horizons
                .iter()
                .map(|&h| {
                    series
                        .get(k + h as usize)
                        .filter(|a| a.close_ms - r.close_ms == u64::from(h) * step)
                        .map(|a| (a.close / r.close).ln())
                })
                .collect();
            table.push(Labelled {
                symbol: &symbols[i],
                row: r,
                labels,
            });
        }
        per_symbol.insert(symbols[i].clone(), series.len() as u64);
    }
    let total = table.len() as u64;
    let parquet = out.extension().is_some_and(|e| e == "parquet");
    let mut file = WholeFile::create(out).with_context(|| format!("creating {}", out.display()))?;
    if parquet {
        write_parquet(&mut file, &columns, &table, bar_secs)
    } else {
        write_csv(&mut file, &columns, &table)
    }
    .with_context(|| format!("writing {}", out.display()))?;
    let manifest = Manifest {
        feature_version: vector::FEATURE_VERSION,
        feature_hash: format!("{:016x}", vector::hash()),
        bar_secs,
        horizons: horizons.to_vec(),
        columns,
        rows: total,
        per_symbol,
        source: match data {
            DataSource::Files(f) => f.iter().map(|p| p.display().to_string()).collect(),
            DataSource::Imported(d) => vec![d.display().to_string()],
        },
    };
    // The manifest first: a table is never in place without its manifest.
    let path = manifest_path(out);
    crate::whole::write(&path, crate::whole::pretty_json(&manifest))
        .with_context(|| format!("writing {}", path.display()))?;
    file.finish()
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(manifest)
}

/// `<FILE>.manifest.json` beside `out`.
pub fn manifest_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".manifest.json");
    out.with_file_name(name)
}

/// Folds a closed base bar into a symbol's vector, keeping the row once
/// the vector is warm.
fn take(vector: &mut FeatureVector, rows: &mut Vec<Row>, k: &Kline) {
    if let Some(f) = vector.on_bar(k) {
        rows.push(Row {
            close_ms: k.open_time.0 / 1_000_000 + u64::from(k.interval_secs) * 1000,
            close: k.close.to_f64(),
            features: f,
        });
    }
}

fn col(name: &str, meaning: &str) -> Column {
    Column {
        name: name.to_string(),
        meaning: meaning.to_string(),
    }
}

fn write_csv(file: impl Write, columns: &[Column], table: &[Labelled<'_>]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(file);
    w.write_record(columns.iter().map(|c| c.name.as_str()))?;
    for t in table {
        let r = t.row;
        let mut rec = vec![
            t.symbol.to_string(),
            crate::position::format_utc(r.close_ms * 1_000_000),
            r.close_ms.to_string(),
            r.close.to_string(),
        ];
        rec.extend(r.features.iter().map(|f| format!("{f:.10e}")));
        rec.extend(
            t.labels
                .iter()
                .map(|l| l.map_or(String::new(), |v| format!("{v:.10e}"))),
        );
        w.write_record(&rec)?;
    }
    w.flush()?;
    Ok(())
}

/// The same table as Parquet: `symbol` (string), `close_time` (timestamp
/// ms, UTC), `close_ms` (int64), `close`, the features and the labels
/// (float64, at full precision; a label without a bar ahead is null).
/// Snappy-compressed; the schema's metadata names the feature hash,
/// version and bar.
fn write_parquet(
    file: impl Write + Send,
    columns: &[Column],
    table: &[Labelled<'_>],
    bar_secs: u32,
) -> anyhow::Result<()> {
    use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema, TimeUnit};
    use std::sync::Arc;

    let close_ms: Vec<i64> = table
        .iter()
        .map(|t| i64::try_from(t.row.close_ms).unwrap_or(i64::MAX))
        .collect();
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            table.iter().map(|t| t.symbol),
        )),
        Arc::new(
            arrow_array::TimestampMillisecondArray::from(close_ms.clone()).with_timezone("UTC"),
        ),
        Arc::new(Int64Array::from(close_ms)),
        Arc::new(Float64Array::from_iter_values(
            table.iter().map(|t| t.row.close),
        )),
    ];
    for f in 0..vector::N {
        arrays.push(Arc::new(Float64Array::from_iter_values(
            table.iter().map(|t| t.row.features[f]),
        )));
    }
    let labels = table.first().map_or(0, |t| t.labels.len());
    for h in 0..labels {
        arrays.push(Arc::new(Float64Array::from_iter(
            table.iter().map(|t| t.labels[h]),
        )));
    }
    let fields: Vec<Field> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (kind, nullable) = match i {
                0 => (DataType::Utf8, false),
                1 => (
                    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                    false,
                ),
                2 => (DataType::Int64, false),
                i if i < 4 + vector::N => (DataType::Float64, false),
                _ => (DataType::Float64, true),
            };
            let meaning =
                std::collections::HashMap::from([("meaning".to_string(), c.meaning.clone())]);
            Field::new(&c.name, kind, nullable).with_metadata(meaning)
        })
        .collect();
    let metadata = std::collections::HashMap::from([
        (
            "feature_hash".to_string(),
            format!("{:016x}", vector::hash()),
        ),
        (
            "feature_version".to_string(),
            vector::FEATURE_VERSION.to_string(),
        ),
        ("bar_secs".to_string(), bar_secs.to_string()),
    ]);
    let schema = Arc::new(Schema::new(fields).with_metadata(metadata));
    let batch = RecordBatch::try_new(Arc::clone(&schema), arrays)?;
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build();
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::io::BufWriter::new(file), schema, Some(props))?;
    w.write(&batch)?;
    w.close()?;
    Ok(())
}
