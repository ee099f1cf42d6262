//! Native log lines to stderr, which Spark captures per executor. Off below `warn` unless
//! SPARKPOLICY_NATIVE_LOG says otherwise (error, warn, info, debug, trace); kernels prefix their
//! lines with the Spark stage and partition they serve.

use log::{LevelFilter, Log, Metadata, Record};
use std::io::Write;
use std::sync::OnceLock;

struct StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            let _ = writeln!(std::io::stderr().lock(), "sparkpolicy-native {} {}", record.level(), record.args());
        }
    }

    fn flush(&self) {}
}

static INIT: OnceLock<()> = OnceLock::new();
static LOGGER: StderrLogger = StderrLogger;

/// Installs the logger once per process (a host application's own logger, if any, wins).
pub fn init() {
    INIT.get_or_init(|| {
        let level = match std::env::var("SPARKPOLICY_NATIVE_LOG").unwrap_or_default().to_ascii_lowercase().as_str() {
            "off" => LevelFilter::Off,
            "error" => LevelFilter::Error,
            "info" => LevelFilter::Info,
            "debug" => LevelFilter::Debug,
            "trace" => LevelFilter::Trace,
            _ => LevelFilter::Warn,
        };
        if log::set_logger(&LOGGER).is_ok() {
            log::set_max_level(level);
        }
    });
}
