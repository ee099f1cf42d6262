//! Throughput of the histogram kernel's hot loop (`HistogramKernel::emit`), one core.
//!
//! One training block of 1M rows × 10 features (u8 codes, 64 value bins + the missing code,
//! 3 arms, deterministic pseudo-random codes and Γ) is scanned for two frontiers:
//! the root alone (`root`) and the 8 leaves of a complete depth-3 tree (`depth3`), each as one
//! chunk. Throughput is counted in row×feature updates (each update adds K Γ values and a count).
//! Routing (`add_block`) happens once per level and is benchmarked separately (`route_depth3`).
//!
//! Fine binning (`bin_direct`, `bin_index`): one million uniform values coded on 20,971 sorted edges (a
//! feature's share of 2^20 fine edges at 50 features) by the direct binary search and by `Binner`'s index.
//!
//! After criterion has run, the medians are read back from criterion's `estimates.json` and
//! written with the CPU model to `benches/results/histogram.json` at the repository root.
//! `HISTOGRAM_BENCH_ROWS` overrides the row count for quick runs (written to `histogram-quick.json`).

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{Criterion, Throughput};
use sparkpolicy_core::binning::{bin_code, Binner};
use sparkpolicy_core::block::TrainingBlock;
use sparkpolicy_core::config::{Chunk, KernelConfig};
use sparkpolicy_core::histogram::HistogramKernel;
use sparkpolicy_core::node_table::{NodeTable, TreeNode};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const FEATURES: usize = 10;
const ARMS: usize = 3;
/// 64 value bins (the learner's default maxBins) plus the missing code.
const CODES: usize = 65;
const GROUP: &str = "histogram_emit";
const DEFAULT_ROWS: usize = 1_000_000;
const BIN_EDGES: usize = 20_971;
const BIN_VALUES: usize = 1_000_000;

/// SplitMix64: a tiny deterministic PRNG, good enough to spread codes and rewards.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn make_block(rows: usize) -> TrainingBlock {
    let mut rng = SplitMix(42);
    let codes = (0..FEATURES).map(|_| (0..rows).map(|_| (rng.next() % CODES as u64) as u16).collect()).collect();
    // Γ as fixed-point integers of realistic size (|Γ| < 2^24).
    let gamma = (0..rows * ARMS).map(|_| (rng.next() % (1 << 25)) as i64 - (1 << 24)).collect();
    common::u8_block(codes, gamma, ARMS)
}

fn leaf(id: u32) -> TreeNode {
    common::leaf_node(id, 0, 0, vec![0.0; ARMS])
}

/// A complete tree of the given depth whose level-d splits use feature d at the middle bin,
/// so the random rows spread evenly over its 2^depth leaves. Returns the tree and its leaves.
fn complete_tree(depth: u32) -> (NodeTable, Vec<u32>) {
    let first_leaf = 1u32 << depth;
    let mut nodes: Vec<TreeNode> = (1..first_leaf)
        .map(|id| {
            let level = 31 - id.leading_zeros();
            TreeNode {
                id,
                is_leaf: false,
                feature: level as i32,
                threshold: 0.5,
                threshold_bin: (CODES as i32 - 1) / 2 - 1,
                missing_left: id % 2 == 0,
                categorical: false,
                arm: -1,
                count: 0,
                values: vec![0.0; ARMS],
            }
        })
        .collect();
    let leaves: Vec<u32> = (first_leaf..2 * first_leaf).collect();
    nodes.extend(leaves.iter().map(|&id| leaf(id)));
    (NodeTable { n_arms: ARMS, nodes }, leaves)
}

fn kernel_config(frontier: Vec<u32>) -> KernelConfig {
    let chunk = Chunk { slot_start: 0, slot_end: frontier.len(), feature_start: 0, feature_end: FEATURES };
    KernelConfig {
        n_arms: ARMS,
        codes_per_feature: vec![CODES; FEATURES],
        frontier,
        chunks: vec![chunk],
        threads: 1,
        tag: String::new(),
        skip_rows: None,
        coarse_cuts: Vec::new(),
        row_sample: None,
        bounds: false,
    }
}

fn kernel(depth: u32, block: &TrainingBlock) -> HistogramKernel {
    let (tree, frontier) = complete_tree(depth);
    let mut k = HistogramKernel::new(tree, kernel_config(frontier)).expect("kernel");
    k.add_block(block.clone()).expect("add_block");
    k
}

/// Where criterion writes its estimates; set explicitly so this file can read them back.
fn criterion_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        PathBuf::from(home)
    } else if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        PathBuf::from(target).join("criterion")
    } else {
        workspace.join("target/criterion")
    }
}

/// Median time per iteration (seconds) of one benchmark, if criterion wrote it during this run.
fn median_seconds(dir: &Path, id: &str, since: SystemTime) -> Option<f64> {
    let path = dir.join(GROUP).join(id).join("new/estimates.json");
    let fresh = std::fs::metadata(&path).and_then(|m| m.modified()).ok()? >= since;
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    let ns = json["median"]["point_estimate"].as_f64()?;
    fresh.then_some(ns / 1e9)
}

/// A field of the first processor in /proc/cpuinfo, e.g. "model name" or "cpu family".
fn cpuinfo(field: &str) -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().filter_map(|l| l.split_once(':')).find(|(k, _)| k.trim() == field).map(|(_, v)| v.trim().to_string()))
        .unwrap_or_else(|| "unknown".into())
}

/// UTC time as ISO 8601, from the Unix clock (civil-from-days, H. Hinnant), to avoid a date crate.
fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

fn write_results(rows: usize, since: SystemTime, dir: &Path) {
    let updates = (rows * FEATURES) as f64;
    let mut cases = serde_json::Map::new();
    let mut all = true;
    for (id, frontier) in [("root", 1), ("depth3", 8)] {
        match median_seconds(dir, id, since) {
            Some(s) => {
                let per_sec = updates / s;
                println!("{id}: {:.1} M row×feature updates/s/core ({:.2} ms per emit)", per_sec / 1e6, s * 1e3);
                cases.insert(
                    id.into(),
                    serde_json::json!({
                        "frontier_nodes": frontier,
                        "median_seconds_per_emit": s,
                        "row_feature_updates_per_sec_per_core": per_sec,
                        "target_updates_per_sec_per_core": 200e6,
                        "meets_target": per_sec >= 200e6,
                    }),
                );
            }
            None => all = false,
        }
    }
    for id in ["bin_direct", "bin_index"] {
        if let Some(s) = median_seconds(dir, id, since) {
            println!("{id}: {:.1} ns per value", s / BIN_VALUES as f64 * 1e9);
            cases.insert(
                id.into(),
                serde_json::json!({ "edges": BIN_EDGES, "values": BIN_VALUES, "ns_per_value": s / BIN_VALUES as f64 * 1e9 }),
            );
        }
    }
    if let Some(s) = median_seconds(dir, "route_depth3", since) {
        cases.insert("route_depth3".into(), serde_json::json!({ "median_seconds_per_add_block": s, "rows_per_sec": rows as f64 / s }));
    }
    // A filtered run (`cargo bench -- root`) must not overwrite the full results with a partial file.
    if !all {
        println!("not all emit benchmarks ran; benches/results left unchanged");
        return;
    }
    let out = serde_json::json!({
        "benchmark": "HistogramKernel::emit (native/core/benches/histogram.rs)",
        "rows": rows,
        "features": FEATURES,
        "arms": ARMS,
        "codes_per_feature": CODES,
        "code_width_bytes": 1,
        "threads": 1,
        "cpu_model": cpuinfo("model name"),
        // Virtual machines often show only a generic model name; family/model/MHz narrow it down.
        "cpu_family_model_mhz": format!("{}/{}/{}", cpuinfo("cpu family"), cpuinfo("model"), cpuinfo("cpu MHz")),
        "logical_cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "load_average_after": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
        "date": utc_now(),
        "results": cases,
    });
    // Only the default size may replace the published figures.
    let name = if rows == DEFAULT_ROWS { "histogram.json" } else { "histogram-quick.json" };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/results").join(name);
    std::fs::create_dir_all(path.parent().unwrap()).expect("create benches/results");
    std::fs::write(&path, serde_json::to_string_pretty(&out).unwrap() + "\n").expect("write histogram.json");
    println!("wrote benches/results/{name}");
}

fn main() {
    let rows: usize = std::env::var("HISTOGRAM_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_ROWS);
    let block = make_block(rows);
    let root = kernel(0, &block);
    let depth3 = kernel(3, &block);
    let dir = criterion_dir();
    // Estimates files are compared with this to tell this run's results from stale ones.
    let since = SystemTime::now() - Duration::from_secs(1);

    let mut c = Criterion::default()
        .output_directory(&dir)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(6))
        .configure_from_args();
    {
        let mut g = c.benchmark_group(GROUP);
        g.throughput(Throughput::Elements((rows * FEATURES) as u64));
        g.bench_function("root", |b| b.iter(|| black_box(root.emit(0).unwrap())));
        g.bench_function("depth3", |b| b.iter(|| black_box(depth3.emit(0).unwrap())));
        g.throughput(Throughput::Elements(rows as u64));
        g.bench_function("route_depth3", |b| {
            b.iter_batched(
                || (kernel_config_tree(3), block.clone()),
                |((tree, config), blk)| {
                    let mut k = HistogramKernel::new(tree, config).unwrap();
                    k.add_block(blk).unwrap();
                    black_box(k)
                },
                criterion::BatchSize::LargeInput,
            )
        });
        let mut rng = SplitMix(7);
        let mut unit = move || (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        let edges: Vec<f64> = (0..BIN_EDGES).map(|i| i as f64 / BIN_EDGES as f64).collect();
        let values: Vec<f64> = (0..BIN_VALUES).map(|_| unit()).collect();
        let binner = Binner::new(edges.clone());
        g.throughput(Throughput::Elements(BIN_VALUES as u64));
        g.bench_function("bin_direct", |b| b.iter(|| black_box(values.iter().map(|&x| bin_code(&edges, x)).sum::<usize>())));
        g.bench_function("bin_index", |b| b.iter(|| black_box(values.iter().map(|&x| binner.code(x)).sum::<usize>())));
        g.finish();
    }
    c.final_summary();
    write_results(rows, since, &dir);
}

fn kernel_config_tree(depth: u32) -> (NodeTable, KernelConfig) {
    let (tree, frontier) = complete_tree(depth);
    (tree, kernel_config(frontier))
}
