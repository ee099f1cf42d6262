//! Java values ⇄ Rust values at the export boundary: arrays copied in, results copied out.
//! Nothing here knows a format; `calls` gets plain slices and numbers.

use crate::guard::ExportResult;
use jni::objects::{JByteArray, JDoubleArray, JLongArray, JString};
use jni::sys::{jbyteArray, jint, jlong, jlongArray};
use jni::JNIEnv;
use sparkpolicy_core::error::try_zeroed;
use sparkpolicy_core::PolicyError;
use std::ptr::null_mut;

pub fn bytes(env: &mut JNIEnv, array: &JByteArray) -> ExportResult<Vec<u8>> {
    let len = env.get_array_length(array)?;
    bytes_prefix(env, array, len)
}

/// The first `len` bytes of `array` (a reused buffer the JVM fills only in part).
pub fn bytes_prefix(env: &mut JNIEnv, array: &JByteArray, len: jint) -> ExportResult<Vec<u8>> {
    let capacity = env.get_array_length(array)?;
    if !(0..=capacity).contains(&len) {
        return Err(PolicyError::InvalidInput(format!("byte length {len} is outside the {capacity}-byte array")).into());
    }
    let mut out = try_zeroed::<i8>(len as usize, "byte[] copy")?;
    env.get_byte_array_region(array, 0, &mut out)?;
    // Same-size element map: the standard library reuses the allocation in place.
    Ok(out.into_iter().map(|b| b as u8).collect())
}

pub fn longs(env: &mut JNIEnv, array: &JLongArray) -> ExportResult<Vec<i64>> {
    let len = env.get_array_length(array)? as usize;
    let mut out = try_zeroed::<i64>(len, "long[] copy")?;
    env.get_long_array_region(array, 0, &mut out)?;
    Ok(out)
}

pub fn doubles(env: &mut JNIEnv, array: &JDoubleArray) -> ExportResult<Vec<f64>> {
    let len = env.get_array_length(array)? as usize;
    let mut out = try_zeroed::<f64>(len, "double[] copy")?;
    env.get_double_array_region(array, 0, &mut out)?;
    Ok(out)
}

pub fn string(env: &mut JNIEnv, s: &JString) -> ExportResult<String> {
    if s.is_null() {
        return Err(PolicyError::InvalidInput("a String argument is null".into()).into());
    }
    Ok(env.get_string(s)?.into())
}

fn java_len(len: usize, what: &str) -> ExportResult<i32> {
    i32::try_from(len).map_err(|_| PolicyError::InvalidInput(format!("{what} of {len} elements exceeds a Java array (2^31 − 1)")).into())
}

/// A Rust result as the Java value an export returns, and the value it returns after throwing.
pub trait ToJava {
    type Raw;
    const THROWN: Self::Raw;
    fn to_java(self, env: &mut JNIEnv) -> ExportResult<Self::Raw>;
}

impl ToJava for () {
    type Raw = ();
    const THROWN: () = ();
    fn to_java(self, _: &mut JNIEnv) -> ExportResult<()> {
        Ok(())
    }
}

impl ToJava for i32 {
    type Raw = jint;
    const THROWN: jint = 0;
    fn to_java(self, _: &mut JNIEnv) -> ExportResult<jint> {
        Ok(self)
    }
}

impl ToJava for i64 {
    type Raw = jlong;
    const THROWN: jlong = 0;
    fn to_java(self, _: &mut JNIEnv) -> ExportResult<jlong> {
        Ok(self)
    }
}

impl ToJava for Vec<u8> {
    type Raw = jbyteArray;
    const THROWN: jbyteArray = null_mut();
    fn to_java(self, env: &mut JNIEnv) -> ExportResult<jbyteArray> {
        java_len(self.len(), "result")?;
        Ok(env.byte_array_from_slice(&self)?.into_raw())
    }
}

impl ToJava for Vec<i64> {
    type Raw = jlongArray;
    const THROWN: jlongArray = null_mut();
    fn to_java(self, env: &mut JNIEnv) -> ExportResult<jlongArray> {
        let array = env.new_long_array(java_len(self.len(), "result")?)?;
        env.set_long_array_region(&array, 0, &self)?;
        Ok(array.into_raw())
    }
}
