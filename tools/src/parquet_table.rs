//! Tables written as Parquet from the same rows the CSV outputs print, so a
//! Parquet export can never say something its CSV twin does not: each
//! column has a [`Kind`], a cell is parsed from its CSV text, and an empty
//! cell is null. Decimals (prices, quantities, money) stay exact as
//! `Decimal128(38, 8)`, the engine's own scale; times stay integers (ns or
//! ms, as the column's name says). Rows are buffered and written a record
//! batch at a time, so a long journal streams through in bounded memory.
//! Snappy-compressed, as most Parquet readers expect.

use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::{Decimal128Builder, Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use autobot_engine::types::Money;

/// A column's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// UTF-8 text.
    Text,
    /// A 64-bit integer (times, sequences, counts, ids).
    Int,
    /// An exact decimal with 8 places.
    Decimal,
    /// A float (ratios, indicator values).
    Float,
}

/// Why a table could not be written.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// A cell is not of its column's kind (a bug in the row's producer).
    #[error("row {row}, column {column}: {value:?} is not {kind:?}")]
    Cell {
        /// 1-based data row.
        row: u64,
        /// The column's name.
        column: String,
        /// The cell.
        value: String,
        /// The column's kind.
        kind: Kind,
    },
    /// The Parquet writer failed (most often the disk).
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// A batch could not be made.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

/// Rows per record batch (and so per row group flush).
const BATCH: usize = 65_536;

enum Column {
    Text(StringBuilder),
    Int(Int64Builder),
    Decimal(Decimal128Builder),
    Float(Float64Builder),
}

impl Column {
    fn new(kind: Kind) -> Column {
        match kind {
            Kind::Text => Column::Text(StringBuilder::new()),
            Kind::Int => Column::Int(Int64Builder::new()),
            Kind::Decimal => Column::Decimal(
                Decimal128Builder::new().with_data_type(DataType::Decimal128(38, 8)),
            ),
            Kind::Float => Column::Float(Float64Builder::new()),
        }
    }

    /// Appends `cell`; `false` when it is not of the column's kind.
    fn push(&mut self, cell: &str) -> bool {
        let empty = cell.is_empty();
        match self {
            Column::Text(b) if empty => b.append_null(),
            Column::Text(b) => b.append_value(cell),
            Column::Int(b) if empty => b.append_null(),
            Column::Int(b) => match cell.parse() {
                Ok(v) => b.append_value(v),
                Err(_) => return false,
            },
            Column::Decimal(b) if empty => b.append_null(),
            // Every decimal type of the engine has the same 8 places.
            Column::Decimal(b) => match Money::parse(cell) {
                Ok(v) => b.append_value(i128::from(v.raw())),
                Err(_) => return false,
            },
            Column::Float(b) if empty => b.append_null(),
            Column::Float(b) => match cell.parse() {
                Ok(v) => b.append_value(v),
                Err(_) => return false,
            },
        }
        true
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Column::Text(b) => Arc::new(b.finish()),
            Column::Int(b) => Arc::new(b.finish()),
            Column::Decimal(b) => Arc::new(b.finish()),
            Column::Float(b) => Arc::new(b.finish()),
        }
    }
}

/// A Parquet table being written row by row.
pub struct TableWriter<W: Write + Send> {
    names: Vec<String>,
    kinds: Vec<Kind>,
    columns: Vec<Column>,
    schema: Arc<Schema>,
    writer: parquet::arrow::ArrowWriter<W>,
    buffered: usize,
    rows: u64,
}

impl<W: Write + Send> TableWriter<W> {
    /// A table of `columns` (name and kind) into `out`, with `metadata` in
    /// its schema.
    pub fn new(
        out: W,
        columns: &[(&str, Kind)],
        metadata: &[(&str, String)],
    ) -> Result<TableWriter<W>, TableError> {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(name, kind)| {
                let t = match kind {
                    Kind::Text => DataType::Utf8,
                    Kind::Int => DataType::Int64,
                    Kind::Decimal => DataType::Decimal128(38, 8),
                    Kind::Float => DataType::Float64,
                };
                Field::new(*name, t, true)
            })
            .collect();
        let meta = metadata
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect();
        let schema = Arc::new(Schema::new(fields).with_metadata(meta));
        let props = parquet::file::properties::WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .build();
        let writer = parquet::arrow::ArrowWriter::try_new(out, Arc::clone(&schema), Some(props))?;
        Ok(TableWriter {
            names: columns.iter().map(|(n, _)| (*n).to_string()).collect(),
            kinds: columns.iter().map(|(_, k)| *k).collect(),
            columns: columns.iter().map(|(_, k)| Column::new(*k)).collect(),
            schema,
            writer,
            buffered: 0,
            rows: 0,
        })
    }

    /// Appends a row of CSV cells, one per column.
    pub fn push<S: AsRef<str>>(&mut self, row: &[S]) -> Result<(), TableError> {
        self.rows += 1;
        for (i, col) in self.columns.iter_mut().enumerate() {
            let cell = row.get(i).map_or("", AsRef::as_ref);
            if !col.push(cell) {
                return Err(TableError::Cell {
                    row: self.rows,
                    column: self.names[i].clone(),
                    value: cell.to_string(),
                    kind: self.kinds[i],
                });
            }
        }
        self.buffered += 1;
        if self.buffered == BATCH {
            self.flush_batch()?;
        }
        Ok(())
    }

    fn flush_batch(&mut self) -> Result<(), TableError> {
        let arrays: Vec<ArrayRef> = self.columns.iter_mut().map(Column::finish).collect();
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), arrays)?;
        self.writer.write(&batch)?;
        self.buffered = 0;
        Ok(())
    }

    /// Writes what is buffered and the file's footer; the rows written.
    pub fn finish(mut self) -> Result<u64, TableError> {
        if self.buffered > 0 || self.rows == 0 {
            self.flush_batch()?;
        }
        self.writer.close()?;
        Ok(self.rows)
    }
}

/// A CSV text of our own (header first) as a Parquet table with the
/// columns' `kinds` in header order.
pub fn from_csv<W: Write + Send>(
    csv_text: &str,
    kinds: &[Kind],
    out: W,
    metadata: &[(&str, String)],
) -> Result<u64, TableError> {
    let mut rd = csv::ReaderBuilder::new().from_reader(csv_text.as_bytes());
    let header: Vec<String> = rd
        .headers()
        .map(|h| h.iter().map(str::to_string).collect())
        .unwrap_or_default();
    let columns: Vec<(&str, Kind)> = header
        .iter()
        .map(String::as_str)
        .zip(kinds.iter().copied())
        .collect();
    let mut t = TableWriter::new(out, &columns, metadata)?;
    for rec in rd.records() {
        // Our own CSV text: every record parses.
        let rec = rec.map_err(|e| TableError::Cell {
            row: t.rows + 1,
            column: String::new(),
            value: e.to_string(),
            kind: Kind::Text,
        })?;
        let cells: Vec<&str> = rec.iter().collect();
        t.push(&cells)?;
    }
    t.finish()
}
