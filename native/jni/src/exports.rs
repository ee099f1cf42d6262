//! Every JNI export of libsparkpolicy, declared in `org.sparkpolicy.NativeLib`.
//! Signatures stay short: a handle, a data buffer, a config blob. Each body runs in `guarded`.
//!
//! # Safety
//! The JVM calls these with a valid `JNIEnv` for the current thread and references of the
//! declared Java types; jni-rs wraps them without further `unsafe` here. No export keeps a
//! JNI reference past its return, and no JNI call happens off the calling thread.

use crate::guard::{guarded, ExportResult};
use crate::handles::{self, Handle, TaskScorer};
use crate::ipc;
use jni::objects::{JByteArray, JClass, JDoubleArray, JLongArray};
use jni::sys::{jbyteArray, jdouble, jint, jlong, jlongArray};
use jni::JNIEnv;
use sparkpolicy_core::block::{BlockBuilder, TrainingBlock};
use sparkpolicy_core::config::{self, BlockConfig, KernelConfig, ScorerConfig, SplitConfig};
use sparkpolicy_core::fixed_point::reward_shift;
use sparkpolicy_core::histogram::HistogramKernel;
use sparkpolicy_core::histogram_layout::HistogramLayout;
use sparkpolicy_core::node_table::NodeTable;
use sparkpolicy_core::reply::LeafTable;
use sparkpolicy_core::scoring::CompiledModel;
use sparkpolicy_core::split::{best_split, node_totals};
use sparkpolicy_core::split_record::SplitRecord;
use sparkpolicy_core::{PolicyError, ABI_VERSION};
use std::ptr::null_mut;
use std::sync::{Arc, Mutex};

fn bytes(env: &mut JNIEnv, array: &JByteArray) -> ExportResult<Vec<u8>> {
    let len = env.get_array_length(array)?;
    bytes_prefix(env, array, len)
}

/// The first `len` bytes of `array` (a reused buffer the JVM fills only in part).
fn bytes_prefix(env: &mut JNIEnv, array: &JByteArray, len: jint) -> ExportResult<Vec<u8>> {
    let capacity = env.get_array_length(array)?;
    if !(0..=capacity).contains(&len) {
        return Err(PolicyError::InvalidInput(format!("byte length {len} is outside the {capacity}-byte array")).into());
    }
    let len = len as usize;
    let mut out = sparkpolicy_core::error::try_zeroed::<i8>(len, "byte[] copy")?;
    env.get_byte_array_region(array, 0, &mut out)?;
    // Same-size element map: the standard library reuses the allocation in place.
    Ok(out.into_iter().map(|b| b as u8).collect())
}

fn longs(env: &mut JNIEnv, array: &JLongArray) -> ExportResult<Vec<i64>> {
    let len = env.get_array_length(array)? as usize;
    let mut out = sparkpolicy_core::error::try_zeroed::<i64>(len, "long[] copy")?;
    env.get_long_array_region(array, 0, &mut out)?;
    Ok(out)
}

fn doubles(env: &mut JNIEnv, array: &JDoubleArray) -> ExportResult<Vec<f64>> {
    let len = env.get_array_length(array)? as usize;
    let mut out = sparkpolicy_core::error::try_zeroed::<f64>(len, "double[] copy")?;
    env.get_double_array_region(array, 0, &mut out)?;
    Ok(out)
}

fn java_len(len: usize, what: &str) -> ExportResult<i32> {
    i32::try_from(len).map_err(|_| PolicyError::InvalidInput(format!("{what} of {len} elements exceeds a Java array (2^31 − 1)")).into())
}

fn new_bytes(env: &mut JNIEnv, data: &[u8]) -> ExportResult<jbyteArray> {
    java_len(data.len(), "result")?;
    Ok(env.byte_array_from_slice(data)?.into_raw())
}

fn new_longs(env: &mut JNIEnv, data: &[i64]) -> ExportResult<jlongArray> {
    let len = java_len(data.len(), "result")?;
    let array = env.new_long_array(len)?;
    env.set_long_array_region(&array, 0, data)?;
    Ok(array.into_raw())
}

fn node_table(env: &mut JNIEnv, ipc_bytes: &JByteArray) -> ExportResult<NodeTable> {
    let batch = ipc::read_single(&bytes(env, ipc_bytes)?)?;
    Ok(NodeTable::from_record_batch(&batch)?)
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_NativeLib_abiVersion(_env: JNIEnv, _class: JClass) -> jint {
    ABI_VERSION
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_NativeLib_rewardShift(
    mut env: JNIEnv,
    _class: JClass,
    n_rows: jlong,
    max_abs: jdouble,
) -> jint {
    guarded(&mut env, 0, |_| {
        if n_rows < 0 {
            return Err(PolicyError::InvalidInput(format!("row count must be non-negative, got {n_rows}")).into());
        }
        Ok(reward_shift(n_rows as u64, max_abs)?)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_NativeLib_blockBuilderOpen<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    config: JByteArray<'l>,
    edges: JDoubleArray<'l>,
) -> jlong {
    guarded(&mut env, 0, |env| {
        let config: BlockConfig = config::parse(&bytes(env, &config)?)?;
        let builder = BlockBuilder::new(&config, &doubles(env, &edges)?)?;
        Ok(handles::insert(Handle::BlockBuilder(Mutex::new(Some(builder)))))
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_NativeLib_blockBuilderPush<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    ipc_bytes: JByteArray<'l>,
) {
    guarded(&mut env, (), |env| {
        let raw = bytes(env, &ipc_bytes)?;
        handles::with_block_builder(handle, |builder| {
            let builder = builder.as_mut().ok_or_else(|| finished(handle))?;
            ipc::read_batches(&raw)?.iter().try_for_each(|batch| builder.push(batch))
        })?;
        Ok(())
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_NativeLib_blockBuilderFinish<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jbyteArray {
    guarded(&mut env, null_mut(), |env| {
        let builder = handles::with_block_builder(handle, |builder| builder.take().ok_or_else(|| finished(handle)))?;
        new_bytes(env, &builder.finish().encode())
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_NativeLib_kernelOpen<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    tree_ipc: JByteArray<'l>,
    config: JByteArray<'l>,
) -> jlong {
    guarded(&mut env, 0, |env| {
        crate::logging::init();
        let tree = node_table(env, &tree_ipc)?;
        let config: KernelConfig = config::parse(&bytes(env, &config)?)?;
        Ok(handles::insert(Handle::Kernel(Mutex::new(HistogramKernel::new(tree, config)?))))
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_NativeLib_kernelAddBlock<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    block: JByteArray<'l>,
) {
    guarded(&mut env, (), |env| {
        // The handle is checked before the bytes are decoded: a closed handle is the error to report.
        let raw = bytes(env, &block)?;
        handles::with_kernel(handle, |kernel| kernel.add_block(TrainingBlock::decode(&raw)?))?;
        Ok(())
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_NativeLib_kernelEmit<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    chunk: jint,
) -> jlongArray {
    guarded(&mut env, null_mut(), |env| {
        if chunk < 0 {
            return Err(PolicyError::InvalidInput(format!("chunk index must be non-negative, got {chunk}")).into());
        }
        let hist = handles::with_kernel(handle, |kernel| kernel.emit(chunk as usize))?;
        new_longs(env, &hist)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_NativeLib_kernelPeakBytes<'l>(mut env: JNIEnv<'l>, _class: JClass<'l>, handle: jlong) -> jlong {
    guarded(&mut env, 0, |_| {
        let peak = handles::with_kernel(handle, |kernel| Ok(kernel.peak_bytes()))?;
        Ok(peak as jlong)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_NativeLib_bestSplit<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    histogram: JLongArray<'l>,
    config: JByteArray<'l>,
) -> jlongArray {
    guarded(&mut env, null_mut(), |env| {
        let config: SplitConfig = config::parse(&bytes(env, &config)?)?;
        if config.codes_per_feature.is_empty() {
            return Err(PolicyError::InvalidInput("split config lists no features".into()).into());
        }
        let hist = longs(env, &histogram)?;
        let result = best_split(&hist, &config)?;
        let totals = node_totals(&hist, &HistogramLayout::new(config.n_arms, &config.codes_per_feature));
        new_longs(env, &SplitRecord::new(totals, &result).encode())
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_NativeLib_modelCompile<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    tree_ipc: JByteArray<'l>,
    config: JByteArray<'l>,
) -> jlong {
    guarded(&mut env, 0, |env| {
        let tree = node_table(env, &tree_ipc)?;
        let config: ScorerConfig = config::parse(&bytes(env, &config)?)?;
        let model = CompiledModel::compile(&tree, config.n_features, config.n_arms)?;
        Ok(handles::insert(Handle::Model(Arc::new(model))))
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_NativeLib_scorerOpen<'l>(mut env: JNIEnv<'l>, _class: JClass<'l>, model: jlong) -> jlong {
    guarded(&mut env, 0, |_| Ok(handles::insert(Handle::Scorer(TaskScorer { model: handles::model(model)? }))))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_NativeLib_scoreBatch<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    scorer: jlong,
    ipc_bytes: JByteArray<'l>,
    length: jint,
) -> jbyteArray {
    guarded(&mut env, null_mut(), |env| {
        let model = handles::scorer_model(scorer)?;
        let batches = ipc::read_batches(&bytes_prefix(env, &ipc_bytes, length)?)?;
        let outputs = batches.iter().map(|b| model.score_batch(b)?.to_record_batch()).collect::<Result<Vec<_>, _>>()?;
        if outputs.is_empty() {
            return Err(PolicyError::InvalidInput("scoring stream has no record batch".into()).into());
        }
        new_bytes(env, &ipc::write_batches(&outputs)?)
    })
}

/// The scorer's leaf table (`reply::LeafTable`), read once per task: rows carry only their leaf.
#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_NativeLib_scorerLeafTable<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    scorer: jlong,
) -> jbyteArray {
    guarded(&mut env, null_mut(), |env| {
        let model = handles::scorer_model(scorer)?;
        new_bytes(env, &ipc::write_batches(&[LeafTable::of_model(&model).to_record_batch()?])?)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_NativeLib_close(_env: JNIEnv, _class: JClass, handle: jlong) {
    handles::close(handle);
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_NativeLib_liveHandles(_env: JNIEnv, _class: JClass) -> jint {
    handles::live() as jint
}

/// Exercises the guard from Java tests: mode 1 panics, mode 2 raises an internal error,
/// mode 3 an invalid-input error; anything else returns normally.
#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_NativeLib_selfTest(mut env: JNIEnv, _class: JClass, mode: jint) -> jint {
    guarded(&mut env, -1, |_| match mode {
        1 => panic!("self-test panic requested"),
        2 => Err(PolicyError::Internal("self-test internal error requested".into()).into()),
        3 => Err(PolicyError::InvalidInput("self-test invalid input requested".into()).into()),
        _ => Ok(mode),
    })
}

fn finished(handle: jlong) -> PolicyError {
    PolicyError::InvalidInput(format!("block builder {handle} is already finished"))
}
