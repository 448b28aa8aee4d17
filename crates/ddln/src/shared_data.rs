//! Read-only `f64` buffers shared without copies: the design matrix is held once, whether
//! it was read from a file (owned), cloned into a sweep's problems (shared), or lent by
//! another runtime such as a numpy array (borrowed for as long as the owner keeps it).

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// Something that keeps a contiguous, immutable `f64` buffer alive.
///
/// Implementations guarantee that [`DataOwner::data`] returns the same slice for the
/// owner's whole life and that nothing writes to it meanwhile (a numpy array lent to a
/// computation must not be modified by the caller until it returns).
pub trait DataOwner: Send + Sync {
    /// The entries.
    fn data(&self) -> &[f64];
}

impl DataOwner for Vec<f64> {
    fn data(&self) -> &[f64] {
        self
    }
}

/// A shared, immutable `f64` buffer: cloning it shares the entries.
#[derive(Clone)]
pub struct SharedData(Arc<dyn DataOwner>);

impl SharedData {
    /// Shares a buffer kept alive by `owner`.
    pub fn from_owner(owner: impl DataOwner + 'static) -> Self {
        SharedData(Arc::new(owner))
    }

    /// Whether two handles share the same entries (no copy was made between them).
    pub fn same_buffer(&self, other: &SharedData) -> bool {
        std::ptr::eq(self.as_ptr(), other.as_ptr()) && self.len() == other.len()
    }
}

impl From<Vec<f64>> for SharedData {
    fn from(v: Vec<f64>) -> Self {
        SharedData::from_owner(v)
    }
}

impl Deref for SharedData {
    type Target = [f64];
    fn deref(&self) -> &[f64] {
        self.0.data()
    }
}

impl fmt::Debug for SharedData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SharedData({} entries)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_entries() {
        let a = SharedData::from(vec![1.0, 2.0, 3.0]);
        let b = a.clone();
        assert!(a.same_buffer(&b));
        assert_eq!(&b[..], &[1.0, 2.0, 3.0]);
        let c = SharedData::from(vec![1.0, 2.0, 3.0]);
        assert!(!a.same_buffer(&c));
    }
}
