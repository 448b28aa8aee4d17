//! Files in and out: `.npy` arrays, `.npz` bundles, JSON, TOML; every write is atomic
//! (a temporary file in the same folder, then a rename), so a crash never leaves a
//! half-written result.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use npyz::WriterBuilder;

/// A dense array read from disk: values in C (row-major) order and the shape.
#[derive(Debug, Clone)]
pub struct Array {
    /// Entries, row-major.
    pub data: Vec<f64>,
    /// Shape.
    pub shape: Vec<usize>,
}

/// Reads a `.npy` file of floats or integers as f64 (C or Fortran order); `field` names
/// the input in error messages.
pub fn read_npy(path: &Path, field: &str) -> Result<Array> {
    // Streamed from the file: the f64 entries are the only copy of the data in memory.
    let cannot = || format!("cannot read `{field}` from {}", path.display());
    let handle = fs::File::open(path).with_context(cannot)?;
    let file_len = handle.metadata().with_context(cannot)?.len();
    let file = npyz::NpyFile::new(std::io::BufReader::new(handle))
        .with_context(|| format!("`{field}`: {} is not a valid .npy file", path.display()))?;
    let shape: Vec<usize> = file.shape().iter().map(|&s| s as usize).collect();
    let order = file.order();
    let dtype = file.dtype();
    let type_str = match &dtype {
        npyz::DType::Plain(t) => t.to_string(),
        other => bail!(
            "`{field}`: {} holds a structured array ({other:?}); expected a plain float array",
            path.display()
        ),
    };
    let short = || {
        format!(
            "`{field}`: {} holds fewer numbers than its header's shape {shape:?} (truncated or corrupt file); write it again",
            path.display()
        )
    };
    let count = ddln::memory::entries(field, &shape)?;
    let width = type_str[2..].parse::<u64>().unwrap_or(8);
    if (count as u128) * u128::from(width) > u128::from(file_len) {
        bail!(short());
    }
    ddln::memory::check_fits(field, &format!("reading {}", path.display()), count)?;
    let data: Vec<f64> = match &type_str[1..] {
        "f8" => file.into_vec::<f64>().with_context(short)?,
        "f4" => file
            .into_vec::<f32>()
            .with_context(short)?
            .into_iter()
            .map(f64::from)
            .collect(),
        "i8" => file
            .into_vec::<i64>()
            .with_context(short)?
            .into_iter()
            .map(|v| v as f64)
            .collect(),
        "i4" => file
            .into_vec::<i32>()
            .with_context(short)?
            .into_iter()
            .map(f64::from)
            .collect(),
        _ => bail!(
            "`{field}`: {} has dtype {type_str}; expected float64 (also accepted: float32, int32, int64)",
            path.display()
        ),
    };
    let data = if order == npyz::Order::Fortran && shape.len() == 2 {
        let (r, c) = (shape[0], shape[1]);
        (0..r * c).map(|k| data[(k % c) * r + k / c]).collect()
    } else {
        data
    };
    Ok(Array { data, shape })
}

/// Reads a matrix (2-D array); a 1-D array of length `m` is taken as `1 x m` when `allow_row`.
pub fn read_matrix(path: &Path, field: &str) -> Result<(Vec<f64>, usize, usize)> {
    let a = read_npy(path, field)?;
    match a.shape.as_slice() {
        [r, c] => Ok((a.data, *r, *c)),
        other => bail!(
            "`{field}`: {} has shape {other:?}; expected a 2-D array",
            path.display()
        ),
    }
}

/// Reads a vector (1-D array, or 2-D with one column).
pub fn read_vector(path: &Path, field: &str) -> Result<Vec<f64>> {
    let a = read_npy(path, field)?;
    match a.shape.as_slice() {
        [_] => Ok(a.data),
        [_, 1] => Ok(a.data),
        other => bail!(
            "`{field}`: {} has shape {other:?}; expected a 1-D array",
            path.display()
        ),
    }
}

/// Writes `bytes` to `path` atomically: a temporary sibling, flushed, then renamed.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<fs::File>) -> Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .context("output path has no file name")?
        .to_string_lossy()
        .into_owned();
    let tmp: PathBuf = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| {
        // create_new: fails on anything already there, a planted link included.
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut w = BufWriter::new(file);
        write(&mut w)?;
        w.flush()?;
        w.get_ref().sync_all()?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fs::rename(&tmp, path)
        .with_context(|| format!("cannot move the result into {}", path.display()))
}

/// Writes text atomically.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    write_atomic(path, |w| Ok(w.write_all(text.as_bytes())?))
}

/// Writes a value as pretty JSON, atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    write_text(path, &(text + "\n"))
}

/// Writes one f64 array as `.npy`, atomically.
pub fn write_npy(path: &Path, data: &[f64], shape: &[usize]) -> Result<()> {
    let shape: Vec<u64> = shape.iter().map(|&s| s as u64).collect();
    write_atomic(path, |w| {
        let mut writer = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&shape)
            .writer(w)
            .begin_nd()?;
        writer.extend(data.iter().copied())?;
        writer.finish()?;
        Ok(())
    })
}

/// Writes named f64 arrays (data, shape) as one `.npz`, atomically, byte for byte the
/// same for the same arrays. The members are stored uncompressed, as `numpy.savez` does: deflating float trajectories saves little
/// and was 3/4 of a run's fixed cost (measured at d = 1000, 201 records).
pub fn write_npz(path: &Path, arrays: &[(&str, &[f64], Vec<usize>)]) -> Result<()> {
    write_atomic(path, |w| {
        let mut npz = npyz::npz::NpzWriter::new(std::io::Cursor::new(Vec::new()));
        // A fixed member time (1980-01-01, zip's epoch): the same run gives the same bytes.
        let stored = zip::write::FileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .last_modified_time(zip::DateTime::default());
        for (name, data, shape) in arrays {
            let shape: Vec<u64> = shape.iter().map(|&s| s as u64).collect();
            let mut writer = npz
                .array::<f64>(name, stored)?
                .default_dtype()
                .shape(&shape)
                .begin_nd()?;
            writer.extend(data.iter().copied())?;
            writer.finish()?;
        }
        let cursor = npz.zip_writer().finish()?;
        w.write_all(cursor.get_ref())?;
        Ok(())
    })
}

/// Creates the output folder (and parents).
pub fn ensure_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the output folder {}", dir.display()))
}
