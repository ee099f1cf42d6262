//! Each row's leaf in a finished tree, read from a training block's bin codes: the fit signs its
//! training output (row key, action, scores per row) from the blocks it already holds instead of
//! scoring the training rows again. The walk is the histogram kernel's own (`histogram::route_rows`,
//! with every leaf in the frontier), and on bins it is the scorer's walk on values (`binning`: code ≤ b
//! exactly when x ≤ edge b, the missing code to the learned side), so the leaves are the ones
//! `scoring` gives the rows the block was built from.
//!
//! Format: the reply is one i32 per block row, in block row order: the heap id of the row's leaf.

use crate::block::TrainingBlock;
use crate::histogram::{route_rows, INACTIVE};
use crate::node_table::NodeTable;
use crate::{invalid, PolicyError, Result};

/// The heap id of every row's leaf. `codes_per_feature` is the contract's (value bins + missing code
/// per feature), as the block was built with.
pub fn block_leaves(tree: &NodeTable, codes_per_feature: &[usize], block: &TrainingBlock) -> Result<Vec<i32>> {
    tree.validate()?;
    if block.n_features != codes_per_feature.len() {
        return invalid!(
            "training block has {} features but {} codes-per-feature counts were given",
            block.n_features,
            codes_per_feature.len()
        );
    }
    if codes_per_feature.iter().any(|&c| c < 2) {
        return invalid!("every feature needs at least 2 codes (one value bin and the missing code)");
    }
    let leaves: Vec<u32> = tree.nodes.iter().filter(|n| n.is_leaf).map(|n| n.id).collect();
    let slots = route_rows(tree, &leaves, codes_per_feature, block)?;
    slots
        .into_iter()
        .map(|slot| match slot {
            INACTIVE => Err(PolicyError::Internal("a row reached no leaf of the finished tree".into())),
            s => Ok(leaves[s as usize] as i32),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::{BlockBuilder, Codes};
    use crate::config::BlockConfig;
    use crate::node_table::tests::{leaf, split};
    use crate::scoring::CompiledModel;
    use arrow_array::{ArrayRef, Float64Array, RecordBatch};
    use std::sync::Arc;

    /// x0 ≤ 0.5 (missing left) → [x1 == code 1 (categorical, missing right) → 4 | 5], else 3.
    fn tree() -> NodeTable {
        let mut cat = split(2, 1, 1.0, 1, false, 2);
        cat.categorical = true;
        let nodes =
            vec![split(1, 0, 0.5, 1, true, 2), cat, leaf(3, 1, vec![0.0, 1.0]), leaf(4, 0, vec![2.0, 0.0]), leaf(5, 1, vec![0.5, 0.75])];
        NodeTable { n_arms: 2, nodes }
    }

    #[test]
    fn leaves_from_bins_are_the_scorers_leaves_from_values() {
        // x0 edges [0.25, 0.5, 2.0]; x1 is a categorical code with edges [0, 1, 2] (the codes themselves).
        let edges = [vec![0.25, 0.5, 2.0], vec![0.0, 1.0, 2.0]];
        let x0 = vec![Some(0.1), Some(0.5), Some(0.50001), None, Some(f64::NAN), Some(-0.0), Some(9.0), Some(0.3)];
        let x1 = vec![Some(1.0), Some(0.0), Some(1.0), Some(1.0), None, Some(2.0), None, Some(1.0)];
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Float64Array::from(x0.clone())),
            Arc::new(Float64Array::from(x1.clone())),
            Arc::new(Float64Array::from(vec![0.0; x0.len()])),
            Arc::new(Float64Array::from(vec![1.0; x0.len()])),
        ];
        let batch = RecordBatch::try_from_iter(columns.into_iter().enumerate().map(|(i, c)| (format!("c{i}"), c))).unwrap();
        let config = BlockConfig { n_arms: 2, edge_counts: vec![3, 3], shift: 0, unscaled_from: None };
        let mut builder = BlockBuilder::new(&config, &edges.concat()).unwrap();
        builder.push(&batch).unwrap();
        let block = builder.finish();
        let codes: Vec<usize> = edges.iter().map(|e| e.len() + 2).collect();
        let leaves = block_leaves(&tree(), &codes, &block).unwrap();
        let model = CompiledModel::compile(&tree(), 2, 2).unwrap();
        let scored: Vec<i32> = x0.iter().zip(&x1).map(|(a, b)| model.leaf_of(|f| [a, b][f].unwrap_or(f64::NAN)) as i32).collect();
        assert_eq!(leaves, scored);
        assert_eq!(leaves, vec![4, 5, 3, 4, 5, 5, 3, 4]);
    }

    #[test]
    fn a_lone_leaf_takes_every_row_and_bad_inputs_are_refused() {
        let lone = NodeTable { n_arms: 2, nodes: vec![leaf(1, 0, vec![1.0, 0.0])] };
        let block =
            TrainingBlock { n_rows: 3, n_features: 1, n_arms: 2, shift: 0, codes: Codes::U8(vec![0, 1, 2]), gamma: vec![0; 6], id: 0 };
        assert_eq!(block_leaves(&lone, &[3], &block).unwrap(), vec![1, 1, 1]);
        let empty = TrainingBlock { n_rows: 0, n_features: 1, n_arms: 2, shift: 0, codes: Codes::U8(vec![]), gamma: vec![], id: 0 };
        assert!(block_leaves(&lone, &[3], &empty).unwrap().is_empty());
        let e = block_leaves(&lone, &[3, 3], &block).unwrap_err().to_string();
        assert!(e.contains("1 features but 2"), "{e}");
        let wide = NodeTable { n_arms: 2, nodes: vec![split(1, 4, 0.5, 0, true, 2), leaf(2, 0, vec![0.0; 2]), leaf(3, 1, vec![0.0; 2])] };
        assert!(block_leaves(&wide, &[3], &block).unwrap_err().to_string().contains("feature index 4"));
        let orphan = NodeTable { n_arms: 2, nodes: vec![split(1, 0, 0.5, 0, true, 2), leaf(2, 0, vec![0.0; 2])] };
        assert!(block_leaves(&orphan, &[3], &block).unwrap_err().to_string().contains("missing its child 3"));
    }
}
