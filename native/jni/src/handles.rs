//! Native objects owned by Java through opaque ids. A registry (not raw pointers) makes
//! `close` idempotent and turns use-after-close into a clear error instead of undefined behaviour.

use sparkpolicy_core::block::BlockBuilder;
use sparkpolicy_core::forest::CompiledForest;
use sparkpolicy_core::histogram::HistogramKernel;
use sparkpolicy_core::pair::PairKernel;
use sparkpolicy_core::refine::RefineKernel;
use sparkpolicy_core::scoring::CompiledModel;
use sparkpolicy_core::{PolicyError, Result};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

pub enum Handle {
    /// A partition's rows being binned into a training block; `None` once finished.
    BlockBuilder(Mutex<Option<BlockBuilder>>),
    /// One partition's histogram work for one tree level.
    Kernel(Mutex<HistogramKernel>),
    /// One partition's threshold-refinement pass for one tree level.
    Refine(Mutex<RefineKernel>),
    /// One partition's pair-histogram work for one tree level (the two-level search).
    PairKernel(Mutex<PairKernel>),
    /// A compiled model: immutable, shared by every task of the executor.
    Model(Model),
    /// A task's scorer: holds the shared model alive for the task's lifetime.
    Scorer(TaskScorer),
}

/// What `modelCompile` builds: a tree, or a forest of them. Cloning shares the compiled arrays.
#[derive(Clone)]
pub enum Model {
    Tree(Arc<CompiledModel>),
    Forest(Arc<CompiledForest>),
}

pub struct TaskScorer {
    pub model: Model,
}

static REGISTRY: LazyLock<Mutex<HashMap<i64, Arc<Handle>>>> = LazyLock::new(|| Mutex::new(HashMap::new()));
static NEXT_ID: AtomicI64 = AtomicI64::new(1);

fn registry() -> MutexGuard<'static, HashMap<i64, Arc<Handle>>> {
    // A panic elsewhere never leaves the map half-updated (inserts and removes are single calls).
    REGISTRY.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn insert(handle: Handle) -> i64 {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    registry().insert(id, Arc::new(handle));
    id
}

pub fn get(id: i64) -> Result<Arc<Handle>> {
    registry().get(&id).cloned().ok_or_else(|| PolicyError::InvalidInput(format!("native handle {id} is closed or was never opened")))
}

/// Frees the handle; closing twice or closing 0 is a no-op.
pub fn close(id: i64) {
    // Take the handle out under the lock, free it after: dropping a large kernel must not stall other tasks.
    let handle = registry().remove(&id);
    drop(handle);
}

pub fn live() -> usize {
    registry().len()
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn wrong_kind(id: i64, expected: &str) -> PolicyError {
    PolicyError::InvalidInput(format!("native handle {id} is not a {expected}"))
}

/// Runs `f` on the unfinished block builder behind `id`.
pub fn with_block_builder<R>(id: i64, f: impl FnOnce(&mut Option<BlockBuilder>) -> Result<R>) -> Result<R> {
    let h = get(id)?;
    let Handle::BlockBuilder(builder) = h.as_ref() else { return Err(wrong_kind(id, "block builder")) };
    let mut guard = lock(builder);
    f(&mut guard)
}

/// Runs `f` on the histogram kernel behind `id`.
pub fn with_kernel<R>(id: i64, f: impl FnOnce(&mut HistogramKernel) -> Result<R>) -> Result<R> {
    let h = get(id)?;
    let Handle::Kernel(kernel) = h.as_ref() else { return Err(wrong_kind(id, "histogram kernel")) };
    let mut guard = lock(kernel);
    f(&mut guard)
}

/// Runs `f` on the refine kernel behind `id`.
pub fn with_refine_kernel<R>(id: i64, f: impl FnOnce(&mut RefineKernel) -> Result<R>) -> Result<R> {
    let h = get(id)?;
    let Handle::Refine(kernel) = h.as_ref() else { return Err(wrong_kind(id, "refine kernel")) };
    let mut guard = lock(kernel);
    f(&mut guard)
}

/// Runs `f` on the pair kernel behind `id`.
pub fn with_pair_kernel<R>(id: i64, f: impl FnOnce(&mut PairKernel) -> Result<R>) -> Result<R> {
    let h = get(id)?;
    let Handle::PairKernel(kernel) = h.as_ref() else { return Err(wrong_kind(id, "pair kernel")) };
    let mut guard = lock(kernel);
    f(&mut guard)
}

/// The compiled model behind `id`.
pub fn model(id: i64) -> Result<Model> {
    match get(id)?.as_ref() {
        Handle::Model(model) => Ok(model.clone()),
        _ => Err(wrong_kind(id, "compiled model")),
    }
}

/// The model a task scorer `id` scores with.
pub fn scorer_model(id: i64) -> Result<Model> {
    match get(id)?.as_ref() {
        Handle::Scorer(task) => Ok(task.model.clone()),
        _ => Err(wrong_kind(id, "task scorer")),
    }
}
