//! Every JNI export of libsparkpolicy, declared in `org.sparkpolicy.bridge.NativeLib`. Each body
//! converts its Java arguments (`marshal`, handle ids to the handles' objects) and makes one call into
//! `calls`, inside `guard::export`, which turns errors and panics into Java exceptions. `abiVersion`,
//! `close` and `liveHandles` cannot fail and call straight through.
//!
//! # Safety
//! The JVM calls these with a valid `JNIEnv` for the current thread (taken as jni-rs's FFI-safe
//! `EnvUnowned`) and references of the declared Java types; jni-rs wraps them without further
//! `unsafe` here. No export keeps a JNI reference past its return, and no JNI call happens off
//! the calling thread.

use crate::calls;
use crate::guard::export;
use crate::handles;
use crate::marshal::{bytes, bytes_prefix, doubles, longs, put, string, training_block};
use jni::objects::{JByteArray, JClass, JDoubleArray, JIntArray, JLongArray, JString};
use jni::sys::{jdouble, jint, jlong};
use jni::EnvUnowned;
use sparkpolicy_core::{PolicyError, ABI_VERSION};

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_abiVersion(_env: EnvUnowned, _class: JClass) -> jint {
    ABI_VERSION
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_rewardShift(
    mut env: EnvUnowned,
    _class: JClass,
    n_rows: jlong,
    max_abs: jdouble,
) -> jint {
    export(&mut env, |_| Ok(calls::reward_shift(n_rows, max_abs)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_blockBuilderOpen<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    config: JByteArray<'l>,
    edges: JDoubleArray<'l>,
) -> jlong {
    export(&mut env, |env| Ok(calls::block_builder_open(&bytes(env, &config)?, &doubles(env, &edges)?)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_blockBuilderPush<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    ipc_bytes: JByteArray<'l>,
    length: jint,
) {
    export(&mut env, |env| Ok(calls::block_builder_push(handle, &bytes_prefix(env, &ipc_bytes, length)?)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_blockBuilderFinish<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> JByteArray<'l> {
    export(&mut env, |_| Ok(calls::block_builder_finish(handle)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_kernelOpen<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    tree_ipc: JByteArray<'l>,
    config: JByteArray<'l>,
) -> jlong {
    export(&mut env, |env| Ok(calls::kernel_open(&bytes(env, &tree_ipc)?, &bytes(env, &config)?)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_kernelAddBlock<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    block: JByteArray<'l>,
) {
    export(&mut env, |env| Ok(calls::kernel_add_block(handle, training_block(env, &block)?)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_kernelEmit<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    chunk: jint,
) -> JLongArray<'l> {
    export(&mut env, |_| Ok(calls::kernel_emit(handle, chunk)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_kernelPeakBytes<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jlong {
    export(&mut env, |_| Ok(calls::kernel_peak_bytes(handle)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_bestSplit<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    histogram: JLongArray<'l>,
    config: JByteArray<'l>,
    allowed_features: JByteArray<'l>,
) -> JLongArray<'l> {
    export(&mut env, |env| Ok(calls::best_split(&longs(env, &histogram)?, &bytes(env, &config)?, &bytes(env, &allowed_features)?)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_pairKernelOpen<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    tree_ipc: JByteArray<'l>,
    config: JByteArray<'l>,
) -> jlong {
    export(&mut env, |env| Ok(calls::pair_kernel_open(&bytes(env, &tree_ipc)?, &bytes(env, &config)?)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_pairKernelAddBlock<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    block: JByteArray<'l>,
) {
    export(&mut env, |env| Ok(calls::pair_kernel_add_block(handle, training_block(env, &block)?)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_pairKernelEmit<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    chunk: jint,
) -> JLongArray<'l> {
    export(&mut env, |_| Ok(calls::pair_kernel_emit(handle, chunk)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_pairKernelPeakBytes<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jlong {
    export(&mut env, |_| Ok(calls::pair_kernel_peak_bytes(handle)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_bestSubtree<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    histogram: JLongArray<'l>,
    config: JByteArray<'l>,
) -> JLongArray<'l> {
    export(&mut env, |env| Ok(calls::best_subtree(&longs(env, &histogram)?, &bytes(env, &config)?)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_refineKernelOpen<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    tree_ipc: JByteArray<'l>,
    config: JByteArray<'l>,
) -> jlong {
    export(&mut env, |env| Ok(calls::refine_kernel_open(&bytes(env, &tree_ipc)?, &bytes(env, &config)?)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_refineKernelAddBlock<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    block: JByteArray<'l>,
) {
    export(&mut env, |env| Ok(calls::refine_kernel_add_block(handle, training_block(env, &block)?)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_refineKernelEmit<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    handle: jlong,
    chunk: jint,
) -> JLongArray<'l> {
    export(&mut env, |_| Ok(calls::refine_kernel_emit(handle, chunk)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_refineSplit<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    histogram: JLongArray<'l>,
    config: JByteArray<'l>,
) -> JLongArray<'l> {
    export(&mut env, |env| Ok(calls::refine_split(&longs(env, &histogram)?, &bytes(env, &config)?)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_outcomeScore<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    totals: JLongArray<'l>,
    arms: jint,
) -> jdouble {
    export(&mut env, |env| Ok(calls::outcome_score(&longs(env, &totals)?, arms)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_blockLeaves<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    tree_ipc: JByteArray<'l>,
    config: JByteArray<'l>,
    block: JByteArray<'l>,
) -> JIntArray<'l> {
    export(&mut env, |env| Ok(calls::block_leaves(&bytes(env, &tree_ipc)?, &bytes(env, &config)?, training_block(env, &block)?)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_blockCacheBudget<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    bytes: jlong,
) -> jlong {
    export(&mut env, |_| Ok(calls::block_cache_budget(bytes)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_modelCompile<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    tree_ipc: JByteArray<'l>,
    config: JByteArray<'l>,
) -> jlong {
    export(&mut env, |env| Ok(calls::model_compile(&bytes(env, &tree_ipc)?, &bytes(env, &config)?)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_scorerOpen<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    model: jlong,
) -> jlong {
    export(&mut env, |_| Ok(calls::scorer_open(handles::model(model)?)?))
}

/// Scores a feature stream into the task's arrays from row `at` (`reply::ScoreColumns`); returns the rows scored.
/// A forest writes its leaves only when `leaves` is non-null. The scorer's handle is checked before the byte
/// length: a closed handle is the error to report.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_scoreInto<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    scorer: jlong,
    ipc_bytes: JByteArray<'l>,
    length: jint,
    at: jint,
    action: JIntArray<'l>,
    leaf: JIntArray<'l>,
    scores: JDoubleArray<'l>,
    leaves: JIntArray<'l>,
) -> jint {
    export(&mut env, |env| {
        let model = handles::scorer_model(scorer)?;
        let out = calls::score_columns(&model, &bytes_prefix(env, &ipc_bytes, length)?, !leaves.is_null())?;
        let (n, at) = (out.rows(), usize::try_from(at).map_err(|_| PolicyError::InvalidInput(format!("first row {at} is negative")))?);
        let width = |len: usize| len.checked_div(n).unwrap_or(0);
        put(env, &action, "action", at, &out.action)?;
        put(env, &leaf, "leaf", at, &out.leaf)?;
        put(env, &scores, "scores", at * width(out.scores.len()), &out.scores)?;
        put(env, &leaves, "leaves", at * width(out.leaves.len()), &out.leaves)?;
        Ok(n as i32)
    })
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_scorerLeafTable<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    scorer: jlong,
) -> JByteArray<'l> {
    export(&mut env, |_| Ok(calls::scorer_leaf_table(&handles::scorer_model(scorer)?)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_close(_env: EnvUnowned, _class: JClass, handle: jlong) {
    calls::close(handle)
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_liveHandles(_env: EnvUnowned, _class: JClass) -> jint {
    calls::live_handles()
}

/// `byte[] wireRoundTrip(String format, byte[] payload)`: see `wire`.
#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_wireRoundTrip<'l>(
    mut env: EnvUnowned<'l>,
    _class: JClass<'l>,
    format: JString<'l>,
    payload: JByteArray<'l>,
) -> JByteArray<'l> {
    export(&mut env, |env| Ok(calls::wire_round_trip(&string(env, &format)?, &bytes(env, &payload)?)?))
}

#[no_mangle]
pub extern "system" fn Java_org_sparkpolicy_bridge_NativeLib_selfTest(mut env: EnvUnowned, _class: JClass, mode: jint) -> jint {
    export(&mut env, |_| Ok(calls::self_test(mode)?))
}
