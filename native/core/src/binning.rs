//! Feature value → bin code. Bins are (e[b−1], e[b]] over a feature's sorted edges, so
//! `code(x) <= b` exactly when `x <= e[b]`: a split "code ≤ b" on bins is the split
//! "x ≤ e[b]" on raw values, and training and scoring agree by construction.
//! Missing values (null or NaN) get the code after the last value bin.

/// Codes a feature uses: its value bins (the last is (e_last, +∞)) plus the missing code.
#[inline]
pub fn codes_for(edges: &[f64]) -> usize {
    edges.len() + 2
}

#[inline]
pub fn missing_code(edges: &[f64]) -> usize {
    edges.len() + 1
}

/// The bin of `x`: the number of edges strictly below it; `None` (NaN) maps to the missing code.
#[inline]
pub fn bin_code(edges: &[f64], x: f64) -> usize {
    if x.is_nan() {
        missing_code(edges)
    } else {
        edges.partition_point(|&e| e < x)
    }
}

/// Fewer edges than this are searched directly: a binary search over them is already a few cache lines.
const INDEX_MIN_EDGES: usize = 64;

/// One feature's edges and an index over them: `code(x)` is `bin_code(edges, x)` for every `x`, found in a
/// short search instead of a binary search over all edges (on 20,971 edges: 9 ns a value against 28 ns,
/// `histogram_emit/bin_index` and `bin_direct` in `benches/histogram.rs`).
///
/// The index cuts the line into `m` buckets by a map `bucket(x)` that never decreases as `x` grows
/// (`KeyMap`), and keeps `starts[b]`, the number of edges whose bucket is below `b`. If `bucket(x) = b`,
/// every edge in a lower bucket is below `x` (an edge `e ≥ x` has `bucket(e) ≥ b`) and no edge in a higher
/// bucket is (an edge `e < x` has `bucket(e) ≤ b`), so `x`'s code lies in `starts[b] ..= starts[b + 1]`
/// and a search of the edges in between finds it exactly, whatever rounding the map does.
#[derive(Debug, Clone)]
pub struct Binner {
    edges: Vec<f64>,
    index: Option<BucketIndex>,
}

#[derive(Debug, Clone)]
struct BucketIndex {
    map: KeyMap,
    /// `m + 1` entries: `starts[b]` edges have a bucket below `b`; `starts[m]` is the edge count.
    starts: Vec<u32>,
}

/// Value → bucket in `0..m`, non-decreasing in the value (NaN is never mapped).
#[derive(Debug, Clone, Copy)]
enum KeyMap {
    /// Equal-width buckets from the first edge: suits edges spread evenly in value.
    Linear { lo: f64, scale: f64 },
    /// Equal ranges of the order-preserving bit pattern (about equal ranges of log |x|): suits skewed edges.
    Bits { lo: u64, shift: u32 },
}

impl KeyMap {
    #[inline]
    fn bucket(self, x: f64, m: usize) -> usize {
        let b = match self {
            // The saturating cast sends negatives to 0 and +∞ to usize::MAX; `scale` is finite and positive.
            KeyMap::Linear { lo, scale } => ((x - lo) * scale) as usize,
            KeyMap::Bits { lo, shift } => (ordered_bits(x).saturating_sub(lo) >> shift) as usize,
        };
        b.min(m - 1)
    }
}

/// The bits of `x` as an integer in the order of the values (−0.0 taken as +0.0, which it equals).
#[inline]
fn ordered_bits(x: f64) -> u64 {
    let bits = (x + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

impl Binner {
    /// Indexes `edges` (strictly increasing, no NaN: `validate_edges`) with whichever map puts the fewest
    /// edges beside each other, or not at all when they are few or no map spreads them.
    pub fn new(edges: Vec<f64>) -> Binner {
        let n = edges.len();
        if n < INDEX_MIN_EDGES {
            return Binner { edges, index: None };
        }
        let m = (2 * n).next_power_of_two();
        let (lo, hi) = (edges[0], edges[n - 1]);
        let mut maps = Vec::with_capacity(2);
        let scale = m as f64 / (hi - lo);
        if scale.is_finite() && scale > 0.0 {
            maps.push(KeyMap::Linear { lo, scale });
        }
        let span = ordered_bits(hi) - ordered_bits(lo);
        let shift = (u64::BITS - span.leading_zeros()).saturating_sub(m.trailing_zeros());
        maps.push(KeyMap::Bits { lo: ordered_bits(lo), shift });
        // Expected search steps for a value distributed like the edges: Σ_b c_b · bits(c_b) / n.
        let cost = |map: KeyMap| -> (usize, Vec<u32>) {
            let mut starts = vec![0u32; m + 1];
            edges.iter().for_each(|&e| starts[map.bucket(e, m) + 1] += 1);
            let steps = starts.iter().map(|&c| c as usize * (u32::BITS - c.leading_zeros()) as usize).sum();
            (1..=m).for_each(|b| starts[b] += starts[b - 1]);
            (steps, starts)
        };
        let direct = n * (usize::BITS - n.leading_zeros()) as usize;
        let best = maps.into_iter().map(|map| (map, cost(map))).min_by_key(|(_, (steps, _))| *steps);
        let index = best.filter(|(_, (steps, _))| 2 * steps < direct).map(|(map, (_, starts))| BucketIndex { map, starts });
        Binner { edges, index }
    }

    pub fn edges(&self) -> &[f64] {
        &self.edges
    }

    /// `bin_code(self.edges(), x)`.
    #[inline]
    pub fn code(&self, x: f64) -> usize {
        match &self.index {
            Some(ix) if !x.is_nan() => {
                let b = ix.map.bucket(x, ix.starts.len() - 1);
                let (from, to) = (ix.starts[b] as usize, ix.starts[b + 1] as usize);
                from + self.edges[from..to].partition_point(|&e| e < x)
            }
            _ => bin_code(&self.edges, x),
        }
    }
}

/// Checks that edges are strictly increasing and contain no NaN.
pub fn validate_edges(feature: usize, edges: &[f64]) -> crate::Result<()> {
    for (i, w) in edges.windows(2).enumerate() {
        if w[0].partial_cmp(&w[1]) != Some(std::cmp::Ordering::Less) {
            return crate::invalid!(
                "boundaries of feature {feature} must be strictly increasing, but edge {i} = {} and edge {} = {}",
                w[0],
                i + 1,
                w[1]
            );
        }
    }
    if edges.iter().any(|e| e.is_nan()) {
        return crate::invalid!("boundaries of feature {feature} contain NaN");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_threshold_semantics() {
        let edges = [1.0, 2.5, 4.0];
        for &x in &[-10.0, 1.0, 1.0001, 2.5, 3.0, 4.0, 4.5, f64::INFINITY, f64::NEG_INFINITY] {
            let c = bin_code(&edges, x);
            for (b, &e) in edges.iter().enumerate() {
                assert_eq!(c <= b, x <= e, "x={x} b={b}");
            }
        }
        assert_eq!(bin_code(&edges, f64::NAN), 4);
    }

    /// The next representable value down (`dir` = −1) or up (+1) from a finite `x`.
    fn step(x: f64, dir: i64) -> f64 {
        let k = ordered_bits(x) as i64 ^ i64::MIN;
        let k = ((k + dir) ^ i64::MIN) as u64;
        f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
    }

    /// Every value near every edge (and the extremes) gets the code of the direct search.
    fn assert_same_codes(edges: Vec<f64>) {
        let binner = Binner::new(edges.clone());
        let mut probes = vec![f64::NEG_INFINITY, f64::INFINITY, f64::NAN, f64::MIN, f64::MAX, 0.0, -0.0, f64::MIN_POSITIVE];
        for &e in &edges {
            probes.extend([e, step(e, -1), step(e, 1), -e, e * 0.5, e * 2.0]);
        }
        for x in probes {
            assert_eq!(binner.code(x), bin_code(&edges, x), "x = {x:e}, {} edges from {:e}", edges.len(), edges[0]);
        }
    }

    #[test]
    fn the_index_agrees_with_the_direct_search() {
        let n = 20_000;
        let uniform: Vec<f64> = (0..n).map(|i| i as f64 / n as f64).collect();
        assert!(Binner::new(uniform.clone()).index.is_some());
        assert_same_codes(uniform);
        let lognormal: Vec<f64> = (0..n).map(|i| ((i as f64 - n as f64 / 2.0) / 700.0).exp()).collect();
        assert!(matches!(Binner::new(lognormal.clone()).index, Some(BucketIndex { map: KeyMap::Bits { .. }, .. })));
        assert_same_codes(lognormal);
        // Both signs, zero among the edges, subnormals, a range whose width overflows, and clustered runs.
        let mut mixed: Vec<f64> = (1..2000).flat_map(|i| [i as f64 * 1e-310, -(i as f64) * 3.7, 1e300 * i as f64]).collect();
        mixed.extend([0.0, f64::MIN, f64::MAX, -1e-320]);
        mixed.extend((0..5000).map(|i| 42.0 + i as f64 * 1e-12));
        mixed.sort_by(f64::total_cmp);
        mixed.dedup();
        assert_same_codes(mixed);
        // Few edges are searched directly.
        assert!(Binner::new(vec![1.0, 2.0, 3.0]).index.is_none());
        assert_same_codes(vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn rejects_unsorted_edges() {
        assert!(validate_edges(3, &[1.0, 1.0]).unwrap_err().to_string().contains("feature 3"));
        assert!(validate_edges(0, &[0.0, f64::NAN]).is_err());
    }
}
