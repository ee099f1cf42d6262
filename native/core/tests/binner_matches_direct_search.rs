//! `Binner::code` must equal the direct binary search (`bin_code`) for every value, whatever the edges:
//! any finite doubles (both signs, subnormals, clusters, spans whose width overflows) and any probe,
//! including ±∞, ±0.0, NaN and the neighbours of every edge.

use proptest::prelude::*;
use sparkpolicy_core::binning::{bin_code, Binner};

/// Finite doubles drawn three ways: any bit pattern, a narrow cluster, and a wide log-scale spread.
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |x| x.is_finite()),
        (0.0f64..1e-6).prop_map(|x| 1.0 + x),
        (-300.0f64..300.0, any::<bool>()).prop_map(|(e, neg)| if neg { -(10f64.powf(e)) } else { 10f64.powf(e) }),
    ]
}

fn edges() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(value(), 1..3000).prop_map(|mut v| {
        v.iter_mut().for_each(|x| *x += 0.0); // -0.0 and 0.0 are one edge
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn binner_matches_direct_search(edges in edges(), probes in prop::collection::vec(value(), 0..200)) {
        let binner = Binner::new(edges.clone());
        let near = edges.iter().flat_map(|&e| [e, -e, e * (1.0 + f64::EPSILON), e * (1.0 - f64::EPSILON)]);
        let special = [f64::NEG_INFINITY, f64::INFINITY, f64::NAN, 0.0, -0.0, f64::MIN, f64::MAX];
        for x in probes.into_iter().chain(near).chain(special) {
            prop_assert_eq!(binner.code(x), bin_code(&edges, x), "x = {:e}", x);
        }
    }
}
