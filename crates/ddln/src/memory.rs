//! Sizes checked before anything is allocated: a request that overflows or that needs
//! more memory than the machine has available is an error naming the setting and the
//! memory it would need, never an allocation abort.

use crate::error::{DdlnError, Result};

/// Memory the machine can give now (`MemAvailable` of /proc/meminfo), when known.
pub fn available_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
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
    let bytes = (count as u128) * 8;
    let available = available_bytes().map(u128::from);
    let limit = available.unwrap_or(u128::from(u64::MAX));
    if bytes > limit || bytes > isize::MAX as u128 {
        let have = available.map_or_else(
            || "the address space".to_string(),
            |a| format!("{:.3} GB available", a as f64 / 1e9),
        );
        return Err(DdlnError::invalid(
            field,
            format!(
                "{what} would need {:.3} GB of memory ({count} numbers) and the machine has {have}; use a smaller value",
                bytes as f64 / 1e9
            ),
        ));
    }
    Ok(())
}
