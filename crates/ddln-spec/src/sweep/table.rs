//! The sweep table: one row per committed job, a column per axis (named as in the
//! config), then `id`, `task`, `status`, `message` and the measures. Written as CSV and
//! Parquet with the same values; rows in grid order whatever order they finished in.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use parquet::basic::{LogicalType, Repetition, Type as Physical};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use toml::Value;

use super::plan::Plan;
use super::row::Row;
use crate::io;

/// The values of one column (`None`: empty cell).
#[derive(Debug, Clone, PartialEq)]
pub enum Cells {
    /// Integers (counts, integer axes).
    Int(Vec<Option<i64>>),
    /// Floats.
    Float(Vec<Option<f64>>),
    /// Text.
    Text(Vec<Option<String>>),
    /// Booleans.
    Bool(Vec<Option<bool>>),
}

/// One named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its cells.
    pub cells: Cells,
}

/// The table of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// Number of rows.
    pub rows: usize,
}

impl Table {
    /// The committed rows of `plan`, in table order.
    pub fn build(plan: &Plan, rows: &HashMap<String, Row>) -> Table {
        let done: Vec<(&super::plan::Job, &Row)> = plan
            .jobs
            .iter()
            .filter_map(|j| rows.get(&j.id).map(|r| (j, r)))
            .collect();
        let mut columns = Vec::new();
        for (k, name) in plan.axis_names().into_iter().enumerate() {
            let values: Vec<&Value> = done
                .iter()
                .map(|(j, _)| &plan.points[j.point].coords[k])
                .collect();
            columns.push(Column {
                name,
                cells: axis_cells(&values),
            });
        }
        let text = |f: &dyn Fn(&Row) -> String| {
            Cells::Text(done.iter().map(|(_, r)| Some(f(r))).collect())
        };
        columns.push(Column {
            name: "id".into(),
            cells: text(&|r| r.id.clone()),
        });
        columns.push(Column {
            name: "task".into(),
            cells: text(&|r| r.task.name().into()),
        });
        columns.push(Column {
            name: "status".into(),
            cells: text(&|r| r.status.clone()),
        });
        columns.push(Column {
            name: "message".into(),
            cells: text(&|r| r.message.clone()),
        });
        for (k, m) in plan.spec.measures.iter().enumerate() {
            let cells = if m.is_count() {
                Cells::Int(
                    done.iter()
                        .map(|(_, r)| r.values[k].map(|v| v as i64))
                        .collect(),
                )
            } else {
                Cells::Float(done.iter().map(|(_, r)| r.values[k]).collect())
            };
            columns.push(Column {
                name: m.name().into(),
                cells,
            });
        }
        Table {
            columns,
            rows: done.len(),
        }
    }

    /// The cells of column `name` as numbers (`NaN` for empty cells), if it is numeric.
    pub fn floats(&self, name: &str) -> Option<Vec<f64>> {
        match &self.columns.iter().find(|c| c.name == name)?.cells {
            Cells::Int(v) => Some(v.iter().map(|x| x.map_or(f64::NAN, |i| i as f64)).collect()),
            Cells::Float(v) => Some(v.iter().map(|x| x.unwrap_or(f64::NAN)).collect()),
            _ => None,
        }
    }

    /// The cells of column `name` as text, if it is a text column.
    pub fn text(&self, name: &str) -> Option<Vec<String>> {
        match &self.columns.iter().find(|c| c.name == name)?.cells {
            Cells::Text(v) => Some(v.iter().map(|x| x.clone().unwrap_or_default()).collect()),
            _ => None,
        }
    }

    /// Writes `table.csv` (floats in shortest round-trip form, empty cells for `None`).
    pub fn write_csv(&self, path: &Path) -> Result<()> {
        io::write_atomic(path, |w| {
            let mut out = csv::Writer::from_writer(w);
            out.write_record(self.columns.iter().map(|c| c.name.as_str()))?;
            for i in 0..self.rows {
                out.write_record(self.columns.iter().map(|c| c.cells.csv(i)))?;
            }
            out.flush()?;
            Ok(())
        })
    }

    /// Writes `table.parquet`: one row group, optional columns of INT64, DOUBLE,
    /// BOOLEAN or UTF-8 strings, uncompressed.
    pub fn write_parquet(&self, path: &Path) -> Result<()> {
        let fields: Vec<Arc<Type>> = self
            .columns
            .iter()
            .map(|c| {
                let (physical, logical) = match c.cells {
                    Cells::Int(_) => (Physical::INT64, None),
                    Cells::Float(_) => (Physical::DOUBLE, None),
                    Cells::Bool(_) => (Physical::BOOLEAN, None),
                    Cells::Text(_) => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
                };
                Type::primitive_type_builder(&c.name, physical)
                    .with_repetition(Repetition::OPTIONAL)
                    .with_logical_type(logical)
                    .build()
                    .map(Arc::new)
            })
            .collect::<parquet::errors::Result<_>>()?;
        let schema = Arc::new(
            Type::group_type_builder("sweep")
                .with_fields(fields)
                .build()?,
        );
        let props = Arc::new(
            WriterProperties::builder()
                .set_created_by(format!("ddln {}", env!("CARGO_PKG_VERSION")))
                .build(),
        );
        io::write_atomic(path, |w| {
            let mut writer = SerializedFileWriter::new(w, schema, props)?;
            let mut group = writer.next_row_group()?;
            let mut k = 0;
            while let Some(mut col) = group.next_column()? {
                let cells = &self.columns[k].cells;
                k += 1;
                match cells {
                    Cells::Int(v) => {
                        let (vals, defs) = split(v, |x| *x);
                        col.typed::<Int64Type>()
                            .write_batch(&vals, Some(&defs), None)?;
                    }
                    Cells::Float(v) => {
                        let (vals, defs) = split(v, |x| *x);
                        col.typed::<DoubleType>()
                            .write_batch(&vals, Some(&defs), None)?;
                    }
                    Cells::Bool(v) => {
                        let (vals, defs) = split(v, |x| *x);
                        col.typed::<BoolType>()
                            .write_batch(&vals, Some(&defs), None)?;
                    }
                    Cells::Text(v) => {
                        let (vals, defs) = split(v, |x: &String| ByteArray::from(x.as_str()));
                        col.typed::<ByteArrayType>()
                            .write_batch(&vals, Some(&defs), None)?;
                    }
                }
                col.close()?;
            }
            group.close()?;
            writer.close()?;
            Ok(())
        })
    }
}

/// The present values and the definition levels (1 present, 0 empty) of a column.
fn split<T, U>(cells: &[Option<T>], f: impl Fn(&T) -> U) -> (Vec<U>, Vec<i16>) {
    let values = cells.iter().flatten().map(f).collect();
    let defs = cells.iter().map(|c| i16::from(c.is_some())).collect();
    (values, defs)
}

impl Cells {
    fn csv(&self, i: usize) -> String {
        match self {
            Cells::Int(v) => v[i].map_or(String::new(), |x| x.to_string()),
            Cells::Float(v) => v[i].map_or(String::new(), |x| format!("{x:?}")),
            Cells::Bool(v) => v[i].map_or(String::new(), |x| x.to_string()),
            Cells::Text(v) => v[i].clone().unwrap_or_default(),
        }
    }
}

/// The column type of an axis: integers stay integers, numbers of mixed kinds become
/// floats, anything else is its TOML text.
fn axis_cells(values: &[&Value]) -> Cells {
    if values.iter().all(|v| v.is_integer()) {
        Cells::Int(values.iter().map(|v| v.as_integer()).collect())
    } else if values.iter().all(|v| v.is_integer() || v.is_float()) {
        Cells::Float(
            values
                .iter()
                .map(|v| v.as_float().or(v.as_integer().map(|i| i as f64)))
                .collect(),
        )
    } else if values.iter().all(|v| v.is_bool()) {
        Cells::Bool(values.iter().map(|v| v.as_bool()).collect())
    } else {
        Cells::Text(
            values
                .iter()
                .map(|v| Some(v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                .collect(),
        )
    }
}

/// A table read back from `table.csv`: the header and the cells as text.
#[derive(Debug, Clone)]
pub struct CsvTable {
    /// Column names.
    pub header: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
}

impl CsvTable {
    /// Reads `table.csv` of a sweep folder.
    pub fn read(path: &Path) -> Result<CsvTable> {
        let mut reader = csv::Reader::from_path(path)
            .with_context(|| format!("cannot read the sweep table {}", path.display()))?;
        let header = reader.headers()?.iter().map(str::to_string).collect();
        let rows = reader
            .records()
            .map(|r| r.map(|rec| rec.iter().map(str::to_string).collect()))
            .collect::<std::result::Result<_, _>>()
            .with_context(|| format!("{} is not a valid table", path.display()))?;
        Ok(CsvTable { header, rows })
    }

    /// The column named `name`, or the one whose last dotted part is `name` (`scale`
    /// for `init.scale`) when exactly one is.
    pub fn column(&self, name: &str) -> Result<usize> {
        if let Some(k) = self.header.iter().position(|h| h == name) {
            return Ok(k);
        }
        let by_suffix: Vec<usize> = (0..self.header.len())
            .filter(|&k| self.header[k].rsplit('.').next() == Some(name))
            .collect();
        match by_suffix.as_slice() {
            [k] => Ok(*k),
            [] => bail!(
                "the table has no column `{name}`; its columns: {}",
                self.header.join(", ")
            ),
            _ => bail!(
                "`{name}` names several columns ({}); give the full name",
                by_suffix
                    .iter()
                    .map(|&k| self.header[k].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}
