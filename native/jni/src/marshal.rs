//! Java values ⇄ Rust values at the export boundary: arrays copied in, results copied out.
//! Nothing here knows a format; `calls` gets plain slices and numbers.

use crate::guard::ExportResult;
use jni::objects::{JByteArray, JDoubleArray, JIntArray, JLongArray, JPrimitiveArray, JString, TypeArray};
use jni::sys::{jdouble, jint, jlong};
use jni::Env;
use sparkpolicy_core::block_cache::BlockBytes;
use sparkpolicy_core::error::try_zeroed;
use sparkpolicy_core::PolicyError;

pub fn bytes(env: &mut Env, array: &JByteArray) -> ExportResult<Vec<u8>> {
    let len = array.len(env)?;
    copy_bytes(env, array, len)
}

/// The first `len` bytes of `array` (a reused buffer the JVM fills only in part).
pub fn bytes_prefix(env: &mut Env, array: &JByteArray, len: jint) -> ExportResult<Vec<u8>> {
    let capacity = array.len(env)?;
    match usize::try_from(len) {
        Ok(len) if len <= capacity => copy_bytes(env, array, len),
        _ => Err(PolicyError::InvalidInput(format!("byte length {len} is outside the {capacity}-byte array")).into()),
    }
}

fn copy_bytes(env: &mut Env, array: &JByteArray, len: usize) -> ExportResult<Vec<u8>> {
    let mut out = try_zeroed::<i8>(len, "byte[] copy")?;
    array.get_region(env, 0, &mut out)?;
    // Same-size element map: the standard library reuses the allocation in place.
    Ok(out.into_iter().map(|b| b as u8).collect())
}

/// A training block's bytes, by header alone when the executor's block cache holds the block
/// (`block_cache`): a pass then copies 32 bytes, not the block.
pub fn training_block(env: &mut Env, array: &JByteArray) -> ExportResult<BlockBytes> {
    let len = array.len(env)?;
    let mut head = [0i8; 32];
    let head_len = len.min(head.len());
    array.get_region(env, 0, &mut head[..head_len])?;
    let head: Vec<u8> = head[..head_len].iter().map(|&b| b as u8).collect();
    BlockBytes::lookup(&head, len, || copy_bytes(env, array, len))
}

pub fn longs(env: &mut Env, array: &JLongArray) -> ExportResult<Vec<i64>> {
    let mut out = try_zeroed::<i64>(array.len(env)?, "long[] copy")?;
    array.get_region(env, 0, &mut out)?;
    Ok(out)
}

pub fn doubles(env: &mut Env, array: &JDoubleArray) -> ExportResult<Vec<f64>> {
    let mut out = try_zeroed::<f64>(array.len(env)?, "double[] copy")?;
    array.get_region(env, 0, &mut out)?;
    Ok(out)
}

/// Copies `values` into the JVM's `array` (`what` names it in errors) from element `at`: results written into
/// arrays the JVM reuses. Nothing to copy needs no array; an array too short for them is an error.
pub fn put<T: TypeArray>(env: &mut Env, array: &JPrimitiveArray<T>, what: &str, at: usize, values: &[T]) -> ExportResult<()> {
    if values.is_empty() {
        return Ok(());
    }
    if array.is_null() {
        return Err(
            PolicyError::InvalidInput(format!("the {what} array is null, and {} values are to be written to it", values.len())).into()
        );
    }
    let len = array.len(env)?;
    if at.checked_add(values.len()).is_none_or(|end| end > len) {
        return Err(
            PolicyError::InvalidInput(format!("{} {what} values from element {at} overrun the {len}-element array", values.len())).into()
        );
    }
    // In bounds: at + values.len() <= len, a Java array length.
    array.set_region(env, at as i32, values)?;
    Ok(())
}

pub fn string(env: &mut Env, s: &JString) -> ExportResult<String> {
    if s.is_null() {
        return Err(PolicyError::InvalidInput("a String argument is null".into()).into());
    }
    Ok(s.try_to_string(env)?)
}

fn java_len(len: usize, what: &str) -> ExportResult<i32> {
    i32::try_from(len).map_err(|_| PolicyError::InvalidInput(format!("{what} of {len} elements exceeds a Java array (2^31 − 1)")).into())
}

/// A Rust result as the Java value an export returns (its `Default` is what it returns after a throw).
pub trait ToJava<'local> {
    type Raw: Default;
    fn to_java(self, env: &mut Env<'local>) -> ExportResult<Self::Raw>;
}

impl<'local> ToJava<'local> for () {
    type Raw = ();
    fn to_java(self, _: &mut Env<'local>) -> ExportResult<()> {
        Ok(())
    }
}

impl<'local> ToJava<'local> for i32 {
    type Raw = jint;
    fn to_java(self, _: &mut Env<'local>) -> ExportResult<jint> {
        Ok(self)
    }
}

impl<'local> ToJava<'local> for i64 {
    type Raw = jlong;
    fn to_java(self, _: &mut Env<'local>) -> ExportResult<jlong> {
        Ok(self)
    }
}

impl<'local> ToJava<'local> for f64 {
    type Raw = jdouble;
    fn to_java(self, _: &mut Env<'local>) -> ExportResult<jdouble> {
        Ok(self)
    }
}

impl<'local> ToJava<'local> for Vec<u8> {
    type Raw = JByteArray<'local>;
    fn to_java(self, env: &mut Env<'local>) -> ExportResult<JByteArray<'local>> {
        java_len(self.len(), "result")?;
        Ok(env.byte_array_from_slice(&self)?)
    }
}

impl<'local> ToJava<'local> for Vec<i64> {
    type Raw = JLongArray<'local>;
    fn to_java(self, env: &mut Env<'local>) -> ExportResult<JLongArray<'local>> {
        let array = env.new_long_array(java_len(self.len(), "result")? as usize)?;
        array.set_region(env, 0, &self)?;
        Ok(array)
    }
}

impl<'local> ToJava<'local> for Vec<i32> {
    type Raw = JIntArray<'local>;
    fn to_java(self, env: &mut Env<'local>) -> ExportResult<JIntArray<'local>> {
        let array = env.new_int_array(java_len(self.len(), "result")? as usize)?;
        array.set_region(env, 0, &self)?;
        Ok(array)
    }
}
