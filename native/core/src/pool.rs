//! The `rayon` pools native work runs on when a Spark task has more than one core (`spark.task.cpus`
//! or `nativeThreads`): one pool per thread count, built once per process and shared by every task, so
//! a task never spawns threads of its own. Work is always split into units that each own whole
//! features, so results are the same bits for any thread count.

use crate::{PolicyError, Result};
use rayon::{ThreadPool, ThreadPoolBuilder};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

static POOLS: LazyLock<Mutex<HashMap<usize, Arc<ThreadPool>>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// The shared pool of `threads` threads (≥ 2).
pub fn pool(threads: usize) -> Result<Arc<ThreadPool>> {
    let mut pools = POOLS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(p) = pools.get(&threads) {
        return Ok(p.clone());
    }
    let p = Arc::new(
        ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(move |i| format!("sparkpolicy-{threads}-{i}"))
            .build()
            .map_err(|e| PolicyError::Internal(format!("cannot start {threads} native threads: {e}")))?,
    );
    pools.insert(threads, p.clone());
    Ok(p)
}

/// `f` over each unit, on `threads` threads when more than one; results in unit order. A panic in a
/// unit becomes an internal error, never an abort.
pub fn map_units<T: Send, U: Sync>(threads: usize, units: &[U], f: impl Fn(&U) -> Result<T> + Sync + Send) -> Result<Vec<T>> {
    if threads <= 1 || units.len() <= 1 {
        return units.iter().map(f).collect();
    }
    use rayon::prelude::*;
    let unit = |u: &U| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(u)))
            .unwrap_or_else(|_| Err(PolicyError::Internal("native worker thread panicked".into())))
    };
    pool(threads)?.install(|| units.par_iter().map(unit).collect::<Vec<Result<T>>>()).into_iter().collect()
}
