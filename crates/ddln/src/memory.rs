//! Sizes checked before anything is allocated: a request that overflows or that needs
//! more memory than the machine has available is an error naming the setting and the
//! memory it would need, never an allocation abort.
//!
//! "Available" is the smallest of: `MemAvailable` of /proc/meminfo, the room left under
//! the cgroup's `memory.max` (a cluster job's limit, which /proc/meminfo does not show),
//! and [`LIMIT_ENV`] when set.

use crate::error::{DdlnError, Result};

/// Environment variable capping the memory a run may plan for, in bytes, or with a
/// suffix `K`, `M`, `G` (powers of 1024), e.g. `DDLN_MEMORY_LIMIT=16G`.
pub const LIMIT_ENV: &str = "DDLN_MEMORY_LIMIT";

/// Memory the machine can give now, when known (see the module docs).
pub fn available_bytes() -> Option<u64> {
    [meminfo_available(), cgroup_room(), env_limit()]
        .into_iter()
        .flatten()
        .min()
}

fn meminfo_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// `memory.max - memory.current` of this process's cgroup (v2), when limited.
fn cgroup_room() -> Option<u64> {
    let read = |name: &str| std::fs::read_to_string(format!("/sys/fs/cgroup/{name}")).ok();
    let max: u64 = read("memory.max")?.trim().parse().ok()?; // "max" (no limit) fails here
    let current: u64 = read("memory.current")?.trim().parse().ok()?;
    Some(max.saturating_sub(current))
}

/// [`LIMIT_ENV`], parsed; an unparsable value counts as unset (and is reported by
/// [`check_limit_env`]).
fn env_limit() -> Option<u64> {
    parse_size(&std::env::var(LIMIT_ENV).ok()?)
}

fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&text[..i], c.to_ascii_uppercase()),
        _ => (text, 'B'),
    };
    let factor: u64 = match unit {
        'B' => 1,
        'K' => 1 << 10,
        'M' => 1 << 20,
        'G' => 1 << 30,
        'T' => 1 << 40,
        _ => return None,
    };
    let value: f64 = digits.trim().parse().ok()?;
    (value.is_finite() && value >= 0.0).then_some((value * factor as f64) as u64)
}

/// Fails when [`LIMIT_ENV`] is set to something that is not a size.
pub fn check_limit_env() -> Result<()> {
    match std::env::var(LIMIT_ENV) {
        Ok(v) if parse_size(&v).is_none() => Err(DdlnError::invalid(
            LIMIT_ENV,
            format!("`{v}` is not a size; use bytes or a number with K, M, G or T (e.g. 16G)"),
        )),
        _ => Ok(()),
    }
}

/// The product of `factors` f64 entries, or an error naming `field` when it overflows.
pub fn entries(field: &str, factors: &[usize]) -> Result<usize> {
    factors
        .iter()
        .try_fold(1usize, |acc, &f| acc.checked_mul(f))
        .ok_or_else(|| {
            DdlnError::invalid(
                field,
                format!("the size {factors:?} overflows the address space; use smaller values"),
            )
        })
}

/// Checks that `count` f64 entries (for `what`) fit in the memory available now.
pub fn check_fits(field: &str, what: &str, count: usize) -> Result<()> {
    let mut estimate = Estimate::new(what);
    estimate.add(what, &[count])?;
    estimate.check(field)
}

/// The memory an operation will allocate, by part, checked against what is available
/// before it allocates any of it.
#[derive(Debug, Clone)]
pub struct Estimate {
    what: String,
    parts: Vec<(String, u128)>,
}

impl Estimate {
    /// An empty estimate for `what` (e.g. "the predictor").
    pub fn new(what: &str) -> Self {
        Estimate {
            what: what.to_string(),
            parts: Vec::new(),
        }
    }

    /// Adds a part of `factors` f64 entries (their product).
    pub fn add(&mut self, label: &str, factors: &[usize]) -> Result<&mut Self> {
        let count = factors
            .iter()
            .try_fold(1u128, |acc, &f| acc.checked_mul(f as u128))
            .ok_or_else(|| DdlnError::invalid(label, format!("the size {factors:?} overflows")))?;
        self.parts.push((label.to_string(), count * 8));
        Ok(self)
    }

    /// The total, in bytes.
    pub fn bytes(&self) -> u128 {
        self.parts.iter().map(|p| p.1).sum()
    }

    /// Fails, naming `field`, the total, each part and what is available, when the
    /// total does not fit.
    pub fn check(&self, field: &str) -> Result<()> {
        check_limit_env()?;
        let bytes = self.bytes();
        let available = available_bytes().map(u128::from);
        let limit = available.unwrap_or(u128::from(u64::MAX));
        if bytes <= limit && bytes <= isize::MAX as u128 {
            return Ok(());
        }
        let have = available.map_or_else(
            || "the address space".to_string(),
            |a| format!("{} available", gb(a)),
        );
        let parts = self
            .parts
            .iter()
            .map(|(label, b)| format!("{label} {}", gb(*b)))
            .collect::<Vec<_>>()
            .join(", ");
        Err(DdlnError::invalid(
            field,
            format!(
                "{} would need {} of memory ({parts}) and the machine has {have} (the least of MemAvailable, the cgroup's memory.max and {LIMIT_ENV}); use a smaller problem or a machine with more memory",
                self.what,
                gb(bytes)
            ),
        ))
    }
}

/// `bytes` in GB, or in MB below 1 GB.
fn gb(bytes: u128) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.3} GB", b / 1e9)
    } else {
        format!("{:.3} MB", b / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("2K"), Some(2048));
        assert_eq!(parse_size("1.5g"), Some(3 << 29));
        assert_eq!(parse_size(" 3 M "), Some(3 << 20));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("-1G"), None);
    }
}
