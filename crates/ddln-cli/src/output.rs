//! Output folders as transactions: a command writes every file into a fresh staging
//! folder beside `--out` (an unpredictable name, created by `mkdir`, so nothing planted
//! in the output folder or beside it is followed), then publishes the whole set at once.
//! A folder is always either the old complete set or the new one, never a mix: the swap
//! is one `renameat2(RENAME_EXCHANGE)` on Linux (two renames elsewhere, where a crash in
//! between leaves the old set under a staging name and no `--out`).
//!
//! Every published folder carries a marker (`.ddln-output.json`: the command that wrote
//! it), so that a folder holding something else is refused before any computing starts.
//! Staging folders of processes that no longer run are removed by the next command.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::json;

/// The marker file of a published output folder.
pub const MARKER: &str = ".ddln-output.json";

/// A staging folder for one command's outputs, published by [`Staging::publish`] or
/// removed when dropped unpublished (an error before publishing leaves `out` as it was).
#[derive(Debug)]
pub struct Staging {
    dir: Option<tempfile::TempDir>,
    out: PathBuf,
    kind: &'static str,
}

/// `.<name>.staging-<pid>-`: the prefix of this process's staging folders for `out`.
fn prefix(name: &str, pid: u32) -> String {
    format!(".{name}.staging-{pid}-")
}

/// Whether the process `pid` still runs (Linux: /proc; elsewhere assume it does).
fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// Removes staging folders for `name` in `parent` left by processes that died.
fn clean_stale(parent: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let head = format!(".{name}.staging-");
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file_name.strip_prefix(&head) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if let (Some(pid), true) = (pid, is_dir) {
            if pid != std::process::id() && !alive(pid) {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// Checks that `out` can receive an output of `kind`: absent, an empty folder, or a
/// folder that an earlier `ddln <kind>` published.
fn check_target(out: &Path, kind: &str) -> Result<()> {
    let meta = match fs::symlink_metadata(out) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot inspect --out {}", out.display())),
    };
    if meta.file_type().is_symlink() {
        bail!(
            "--out {} is a symbolic link; give the folder itself (outputs are published by renaming a folder into place)",
            out.display()
        );
    }
    if !meta.is_dir() {
        bail!(
            "--out {} is a file, not a folder; choose a new or empty folder",
            out.display()
        );
    }
    let mut entries = fs::read_dir(out)
        .with_context(|| format!("cannot read --out {}", out.display()))?
        .peekable();
    if entries.peek().is_none() {
        return Ok(());
    }
    let marker = out.join(MARKER);
    let written_by = fs::read_to_string(&marker)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|v| v["kind"].as_str().map(str::to_string));
    match written_by {
        Some(k) if k == kind => Ok(()),
        Some(k) => bail!(
            "--out {} holds the output of `ddln {k}`, not of `ddln {kind}`; choose another folder (nothing was computed or written)",
            out.display()
        ),
        None => bail!(
            "--out {} is not empty and was not written by ddln (no {MARKER}); choose a new or empty folder (nothing was computed or written)",
            out.display()
        ),
    }
}

impl Staging {
    /// Checks `out` and creates a fresh staging folder beside it, before any computing.
    pub fn begin(out: &Path, kind: &'static str) -> Result<Staging> {
        let name = out
            .file_name()
            .with_context(|| format!("--out {} has no folder name", out.display()))?
            .to_string_lossy()
            .into_owned();
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        check_target(out, kind)?;
        fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create the folder {}", parent.display()))?;
        clean_stale(&parent, &name);
        let dir = tempfile::Builder::new()
            .prefix(&prefix(&name, std::process::id()))
            .tempdir_in(&parent)
            .with_context(|| {
                format!(
                    "cannot create a staging folder in {} (is it writable?)",
                    parent.display()
                )
            })?;
        Ok(Staging {
            dir: Some(dir),
            out: out.to_path_buf(),
            kind,
        })
    }

    /// Where the outputs are written until they are published.
    pub fn path(&self) -> &Path {
        self.dir.as_ref().expect("not yet published").path()
    }

    /// Publishes the staged set as `out` in one step, replacing an earlier set.
    pub fn publish(mut self) -> Result<()> {
        let dir = self.dir.take().expect("published once");
        crate::io::write_json(
            &dir.path().join(MARKER),
            &json!({"kind": self.kind, "ddln_version": env!("CARGO_PKG_VERSION")}),
        )?;
        let staged = dir.keep();
        // The target may have appeared meanwhile (another process): check it again.
        if let Err(e) = check_target(&self.out, self.kind) {
            let _ = fs::remove_dir_all(&staged);
            return Err(e);
        }
        let result = swap_into_place(&staged, &self.out);
        if result.is_err() {
            let _ = fs::remove_dir_all(&staged);
        }
        result.with_context(|| format!("cannot publish the outputs as {}", self.out.display()))
    }
}

/// Moves `staged` to `out`: a plain rename when `out` does not exist, else an atomic
/// exchange followed by the removal of the old set (now at `staged`).
fn swap_into_place(staged: &Path, out: &Path) -> std::io::Result<()> {
    if fs::symlink_metadata(out).is_err() {
        return fs::rename(staged, out);
    }
    if exchange(staged, out)? {
        return fs::remove_dir_all(staged);
    }
    // No atomic exchange here: move the old set aside under a staging name first.
    let aside = staged.with_extension("old");
    fs::rename(out, &aside)?;
    fs::rename(staged, out)?;
    fs::remove_dir_all(&aside)
}

/// `renameat2(a, b, RENAME_EXCHANGE)`; `Ok(false)` where the system cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<bool> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: two valid NUL-terminated paths, relative to the current directory.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        return Ok(true);
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EINVAL) | Some(libc::ENOSYS) => Ok(false),
        _ => Err(err),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<bool> {
    Ok(false)
}
