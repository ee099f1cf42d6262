//! The one wrapper every export runs in: catches panics, maps errors to Java exceptions,
//! and returns the export's default value so the JVM never sees an unwinding native frame.

use crate::marshal::ToJava;
use jni::JNIEnv;
use sparkpolicy_core::PolicyError;
use std::panic::{catch_unwind, AssertUnwindSafe};

pub const ILLEGAL_ARGUMENT: &str = "java/lang/IllegalArgumentException";
// The exception classes stay in `org.sparkpolicy` while `NativeLib` lives in `org.sparkpolicy.bridge`.
pub const NATIVE_EXCEPTION: &str = "org/sparkpolicy/NativeException";

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Core(#[from] PolicyError),
    /// A JNI call failed; if it left a Java exception pending, that one is reported.
    #[error("JNI call failed: {0}")]
    Jni(#[from] jni::errors::Error),
}

pub type ExportResult<T> = Result<T, ExportError>;

/// `guarded` for a body whose Rust result becomes the export's Java value (`ToJava`); after a
/// throw the export returns `ToJava::THROWN` (0 or null), which the JVM ignores.
pub fn export<'local, T: ToJava>(env: &mut JNIEnv<'local>, body: impl FnOnce(&mut JNIEnv<'local>) -> ExportResult<T>) -> T::Raw {
    guarded(env, T::THROWN, |env| body(env)?.to_java(env))
}

pub fn guarded<'local, T>(env: &mut JNIEnv<'local>, default: T, body: impl FnOnce(&mut JNIEnv<'local>) -> ExportResult<T>) -> T {
    let outcome = catch_unwind(AssertUnwindSafe(|| body(env)));
    let (class, message) = match outcome {
        Ok(Ok(value)) => return value,
        Ok(Err(ExportError::Core(PolicyError::InvalidInput(m)))) => (ILLEGAL_ARGUMENT, m),
        Ok(Err(e)) => (NATIVE_EXCEPTION, e.to_string()),
        Err(panic) => (NATIVE_EXCEPTION, format!("native panic: {}", panic_message(&panic))),
    };
    // Keep an exception the JVM already raised (e.g. OutOfMemoryError from a JNI allocation).
    if !env.exception_check().unwrap_or(false) {
        let _ = env.throw_new(class, message);
    }
    default
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_string())
}
