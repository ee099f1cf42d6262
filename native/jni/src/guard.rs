//! The one wrapper every export runs in. jni-rs's `EnvUnowned::with_env` catches panics; the
//! `ThrowJava` policy then maps errors and panics to Java exceptions and returns the export's
//! default value (0 or null), so the JVM never sees an unwinding native frame.

use crate::marshal::ToJava;
use jni::errors::ErrorPolicy;
use jni::strings::{JNIStr, JNIString};
use jni::{jni_str, Env, EnvUnowned};
use sparkpolicy_core::PolicyError;

pub const ILLEGAL_ARGUMENT: &JNIStr = jni_str!("java/lang/IllegalArgumentException");
// The exception classes stay in `org.sparkpolicy` while `NativeLib` lives in `org.sparkpolicy.bridge`.
pub const NATIVE_EXCEPTION: &JNIStr = jni_str!("org/sparkpolicy/NativeException");

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Core(#[from] PolicyError),
    /// A JNI call failed; if it left a Java exception pending, that one is reported.
    #[error("JNI call failed: {0}")]
    Jni(#[from] jni::errors::Error),
}

pub type ExportResult<T> = Result<T, ExportError>;

/// Runs an export body and turns its Rust result into the export's Java value (`ToJava`).
pub fn export<'local, T: ToJava<'local>>(env: &mut EnvUnowned<'local>, body: impl FnOnce(&mut Env<'local>) -> ExportResult<T>) -> T::Raw {
    env.with_env(|env| body(env)?.to_java(env)).resolve::<ThrowJava>()
}

/// Invalid input → `IllegalArgumentException`; anything else, panics included → `NativeException`.
pub struct ThrowJava;

impl<T: Default> ErrorPolicy<T, ExportError> for ThrowJava {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _: &mut (),
        err: ExportError,
    ) -> jni::errors::Result<T> {
        match err {
            ExportError::Core(PolicyError::InvalidInput(m)) => throw(env, ILLEGAL_ARGUMENT, m),
            e => throw(env, NATIVE_EXCEPTION, e.to_string()),
        }
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _: &mut (),
        panic: Box<dyn std::any::Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        throw(env, NATIVE_EXCEPTION, format!("native panic: {}", panic_message(&panic)))
    }
}

fn throw<T: Default>(env: &mut Env, class: &JNIStr, message: String) -> jni::errors::Result<T> {
    // Keep an exception the JVM already raised (e.g. OutOfMemoryError from a JNI allocation).
    if !env.exception_check() {
        let _ = env.throw_new(class, JNIString::from(message));
    }
    Ok(T::default())
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_string())
}
