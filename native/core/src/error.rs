//! One error type for every kernel. The JNI layer maps `InvalidInput` to
//! `IllegalArgumentException` and `Internal` to the project's `NativeException`.

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    /// The caller passed something malformed or out of range; the message says what.
    #[error("{0}")]
    InvalidInput(String),
    /// A broken invariant inside the library; never the user's fault.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T> = std::result::Result<T, PolicyError>;

impl PolicyError {
    /// The same error with `what` (where it happened) in front of its message.
    pub fn context(self, what: &str) -> PolicyError {
        match self {
            PolicyError::InvalidInput(m) => PolicyError::InvalidInput(format!("{what}: {m}")),
            PolicyError::Internal(m) => PolicyError::Internal(format!("{what}: {m}")),
        }
    }
}

/// Shorthand for `Err(PolicyError::InvalidInput(format!(...)))`.
#[macro_export]
macro_rules! invalid {
    ($($arg:tt)*) => { Err($crate::PolicyError::InvalidInput(format!($($arg)*))) };
}

impl From<arrow_schema::ArrowError> for PolicyError {
    fn from(e: arrow_schema::ArrowError) -> Self {
        PolicyError::InvalidInput(format!("invalid Arrow data: {e}"))
    }
}

impl From<serde_json::Error> for PolicyError {
    fn from(e: serde_json::Error) -> Self {
        PolicyError::InvalidInput(format!("invalid config JSON: {e}"))
    }
}

/// Allocates a zeroed vector without aborting the process when the size is absurd:
/// sizes here come from data and configs, so failure must be an error, not an OOM abort.
pub fn try_zeroed<T: Clone + Default>(len: usize, what: &str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| PolicyError::InvalidInput(format!("cannot allocate {what}: {len} elements of {} bytes", std::mem::size_of::<T>())))?;
    v.resize(len, T::default());
    Ok(v)
}
