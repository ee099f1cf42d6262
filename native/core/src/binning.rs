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

    #[test]
    fn rejects_unsorted_edges() {
        assert!(validate_edges(3, &[1.0, 1.0]).unwrap_err().to_string().contains("feature 3"));
        assert!(validate_edges(0, &[0.0, f64::NAN]).is_err());
    }
}
