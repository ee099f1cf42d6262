"""The Params of the org.sparkpolicy.ml stages as the JVM defines them: GENERATED, do not edit.

Regenerate after a Scala Param change with `make python-params` (python/tools/gen_params.py); tests/test_params.py
fails while this file differs from the jar. A Param: its doc, pyspark TypeConverters name and default ("default"
is absent when the JVM has none).
"""

# The Params each Scala trait declares (as every stage mixing it in has them).
TRAITS = {
    'HasAipwSettings': {
        'crossFitFolds': {'doc': "AIPW cross-fitting folds K, chosen by a hash of each row's content (or rowIdCol); fold k is predicted by models fitted on the other folds", 'converter': 'toInt', 'default': 5},
        'handleInvalid': {'doc': "rows with a null treatment or a null, NaN or infinite outcome: 'error' (default; the message names the column and count) or 'skip' (dropped and counted in the training summary)", 'converter': 'toString', 'default': 'error'},
        'outcomeMaxDepth': {'doc': 'depth of the native cross-fitted outcome trees μ̂ (1 to 12)', 'converter': 'toInt', 'default': 4},
        'outcomeMinNodeSize': {'doc': "minimum rows in each child of an outcome-tree split; a leaf's arm mean needs this many rows of the arm, else it comes from the nearest ancestor that has them", 'converter': 'toInt', 'default': 20},
        'propensityFloor': {'doc': 'AIPW propensities are clipped to [propensityFloor, 1]; the number of clipped rows is in the training summary', 'converter': 'toFloat', 'default': 0.01},
        'propensityModel': {'doc': "AIPW propensity when propensityCol is unset: 'shares' (the arm's share of all rows, for randomized designs) or 'tree' (the arm's share of the leaf of the row's cross-fitted outcome tree)", 'converter': 'toString', 'default': 'shares'},
    },
    'HasBinning': {
        'boundarySampleSize': {'doc': 'rows sampled (by content hash) to place split boundaries; every row when the data is smaller', 'converter': 'toInt', 'default': 50000},
        'maxBins': {'doc': "value bins per feature (2 to 65,535) of the split search's grid, plus one code for missing values: with thresholdSearch 'exact' the coarse grid searched before refinement, with 'binned' (and in DoublyRobustScores) the only thresholds", 'converter': 'toInt', 'default': 64},
        'rowIdCol': {'doc': "optional row id column; when set, the boundary sample and the AIPW folds are chosen by a hash of the id instead of the row's content", 'converter': 'toString'},
    },
    'HasCategoricalFeatures': {
        'categoricalCols': {'doc': 'feature columns to treat as categorical (a subset of featureCols); string features are categorical anyway, and a numeric column listed here is coded by its value as a string', 'converter': 'toListString'},
        'categoryOrders': {'doc': "optional JSON object {column: [label, ...]} fixing a categorical feature's category codes (code i = label i); default: the observed labels sorted by UTF-8 bytes", 'converter': 'toString', 'default': '{}'},
    },
    'HasForestSettings': {
        'featureSubsetStrategy': {'doc': "features each node may split on, drawn by a hash of (seed, tree, node, feature): 'all', 'sqrt', 'log2', 'onethird', a fraction in (0, 1] or a whole number of features", 'converter': 'toString', 'default': 'all'},
        'honest': {'doc': 'each tree chooses its splits on one half of its rows and takes its leaf values from the other half (as EconML)', 'converter': 'toBoolean', 'default': True},
        'numTrees': {'doc': 'trees in the forest (1 to 10,000)', 'converter': 'toInt', 'default': 100},
        'seed': {'doc': 'seed of every random choice of the forest (rows, features)', 'converter': 'toInt', 'default': 42},
        'subsamplingRate': {'doc': "share of the rows each tree draws, without replacement, by a hash of the row's content (or rowIdCol), the seed and the tree: in (0, 1]", 'converter': 'toFloat', 'default': 0.5},
    },
    'HasNativeResources': {
        'maxMemoryMB': {'doc': 'per-task native histogram budget in MiB; frontier nodes and feature blocks are grouped to fit', 'converter': 'toInt', 'default': 256},
        'nativeThreads': {'doc': 'native threads per task for histograms; 0 uses spark.task.cpus. Results do not depend on it', 'converter': 'toInt', 'default': 0},
    },
    'HasPolicyFeatures': {
        'featureCols': {'doc': 'numeric, boolean or string (categorical) feature columns, in contract order (the order is part of the semantic contract)', 'converter': 'toListString'},
    },
    'HasRewardInputs': {
        'outcomeCol': {'doc': 'observed outcome Y, for AIPW or IPW rewards', 'converter': 'toString'},
        'propensityCol': {'doc': "probability of the arm each row received; when unset, the arm's share in the data (or, for AIPW, see propensityModel)", 'converter': 'toString'},
        'rewardCols': {'doc': 'one reward (Γ) column per arm, in vocabulary order; without treatmentCol the arms are named after these columns', 'converter': 'toListString'},
        'rewardType': {'doc': "how Γ is built: 'given' (rewardCols), 'ipw' (Γ(a) = 1{W=a}·Y/e) or 'aipw' (Γ(a) = μ̂_a(X) + 1{W=a}·(Y − μ̂_a(X))/e, cross-fitted); default 'given' when rewardCols is set, else 'aipw'", 'converter': 'toString'},
        'treatmentCol': {'doc': 'column of arm labels (string or integer); optional when rewardCols is set', 'converter': 'toString'},
        'treatmentVocabulary': {'doc': 'fixed arm order; default: integer labels sorted numerically, string labels by UTF-8 bytes', 'converter': 'toListString'},
    },
    'HasScoringBatch': {
        'scoringBatchSize': {'doc': 'rows per Arrow batch sent to the native scorer', 'converter': 'toInt', 'default': 4096},
    },
    'HasTreeGrowth': {
        'boundaries': {'doc': 'locked split boundaries per feature (featureCols order); when set, no boundaries are computed', 'converter': 'toListListFloat'},
        'boundaryStrategy': {'doc': "'exact' (default): exact quantiles of a content-hash sample, identical in any layout; 'approx': Spark's approxQuantile, fast but not layout-invariant", 'converter': 'toString', 'default': 'exact'},
        'maxDepth': {'doc': 'maximum depth of the tree (1 to 12)', 'converter': 'toInt', 'default': 3},
        'minNodeSize': {'doc': "minimum number of rows in each child of a split (policytree's min.node.size)", 'converter': 'toInt', 'default': 1},
        'refineBins': {'doc': "with thresholdSearch 'exact', the coarse bins per node refined on the fine grid at most: the coarse winner's two, then those whose bound can reach the node's best, largest first (trees 8, forests 2: the winner's bins alone, no bounds); 0: every bin that can, which makes each split the exhaustive search's", 'converter': 'toInt', 'default': 8},
        'searchDepth': {'doc': "levels searched together: 1 greedy (each split alone); 2 each split is the root of the best depth-2 subtree (policytree's hybrid search; with maxDepth 2 the optimal depth-2 tree over the coarse grid)", 'converter': 'toInt', 'default': 1},
        'thresholdSearch': {'doc': "'exact' (default, for trees and forests): every distinct value of the boundary sample is a candidate threshold, searched on a coarse grid of maxBins bins, then the coarse bins whose bound can reach the best are refined (up to refineBins per node; docs/contract.md); 'binned': only the maxBins quantile boundaries", 'converter': 'toString', 'default': 'exact'},
    },
}

# Each stage: the traits it mixes in, its Scala setters, and the Params its class declares itself.
STAGES = {
    'DoublyRobustScores': {
        'traits': ['HasAipwSettings', 'HasBinning', 'HasCategoricalFeatures', 'HasNativeResources', 'HasPolicyFeatures', 'HasRewardInputs'],
        'setters': ['boundarySampleSize', 'categoricalCols', 'categoryOrders', 'crossFitFolds', 'featureCols', 'handleInvalid', 'maxBins', 'maxMemoryMB', 'nativeThreads', 'outcomeCol', 'outcomeMaxDepth', 'outcomeMinNodeSize', 'propensityCol', 'propensityFloor', 'propensityModel', 'rewardCols', 'rewardType', 'rewardsCol', 'rowIdCol', 'treatmentCol', 'treatmentVocabulary'],
        'params': {
            'rewardsCol': {'doc': 'output array<double> column of Γ per arm, vocabulary order', 'converter': 'toString', 'default': 'rewards'},
        },
    },
    'PolicyForestLearner': {
        'traits': ['HasAipwSettings', 'HasBinning', 'HasCategoricalFeatures', 'HasForestSettings', 'HasNativeResources', 'HasPolicyFeatures', 'HasRewardInputs', 'HasScoringBatch', 'HasTreeGrowth'],
        'setters': ['boundaries', 'boundarySampleSize', 'boundaryStrategy', 'categoricalCols', 'categoryOrders', 'crossFitFolds', 'featureCols', 'featureSubsetStrategy', 'handleInvalid', 'honest', 'maxBins', 'maxDepth', 'maxMemoryMB', 'minNodeSize', 'nativeThreads', 'numTrees', 'outcomeCol', 'outcomeMaxDepth', 'outcomeMinNodeSize', 'propensityCol', 'propensityFloor', 'propensityModel', 'refineBins', 'rewardCols', 'rewardType', 'rowIdCol', 'scoringBatchSize', 'searchDepth', 'seed', 'subsamplingRate', 'thresholdSearch', 'treatmentCol', 'treatmentVocabulary'],
        'params': {
            'refineBins': {'doc': "with thresholdSearch 'exact', the coarse bins per node refined on the fine grid at most: the coarse winner's two, then those whose bound can reach the node's best, largest first (trees 8, forests 2: the winner's bins alone, no bounds); 0: every bin that can, which makes each split the exhaustive search's", 'converter': 'toInt', 'default': 2},
        },
    },
    'PolicyForestModel': {
        'traits': ['HasAipwSettings', 'HasBinning', 'HasForestSettings', 'HasNativeResources', 'HasPolicyFeatures', 'HasRewardInputs', 'HasScoringBatch', 'HasTreeGrowth'],
        'setters': ['boundaries', 'boundarySampleSize', 'boundaryStrategy', 'crossFitFolds', 'featureCols', 'featureSubsetStrategy', 'handleInvalid', 'honest', 'maxBins', 'maxDepth', 'maxMemoryMB', 'minNodeSize', 'nativeThreads', 'numTrees', 'outcomeCol', 'outcomeMaxDepth', 'outcomeMinNodeSize', 'propensityCol', 'propensityFloor', 'propensityModel', 'refineBins', 'rewardCols', 'rewardType', 'rowIdCol', 'scoringBatchSize', 'searchDepth', 'seed', 'subsamplingRate', 'thresholdSearch', 'treatmentCol', 'treatmentVocabulary'],
        'params': {
            'refineBins': {'doc': "with thresholdSearch 'exact', the coarse bins per node refined on the fine grid at most: the coarse winner's two, then those whose bound can reach the node's best, largest first (trees 8, forests 2: the winner's bins alone, no bounds); 0: every bin that can, which makes each split the exhaustive search's", 'converter': 'toInt', 'default': 2},
        },
    },
    'PolicyTreeLearner': {
        'traits': ['HasAipwSettings', 'HasBinning', 'HasCategoricalFeatures', 'HasNativeResources', 'HasPolicyFeatures', 'HasRewardInputs', 'HasScoringBatch', 'HasTreeGrowth'],
        'setters': ['boundaries', 'boundarySampleSize', 'boundaryStrategy', 'categoricalCols', 'categoryOrders', 'crossFitFolds', 'featureCols', 'handleInvalid', 'maxBins', 'maxDepth', 'maxMemoryMB', 'minNodeSize', 'nativeThreads', 'outcomeCol', 'outcomeMaxDepth', 'outcomeMinNodeSize', 'propensityCol', 'propensityFloor', 'propensityModel', 'refineBins', 'rewardCols', 'rewardType', 'rowIdCol', 'scoringBatchSize', 'searchDepth', 'thresholdSearch', 'treatmentCol', 'treatmentVocabulary'],
        'params': {},
    },
    'PolicyTreeModel': {
        'traits': ['HasAipwSettings', 'HasBinning', 'HasNativeResources', 'HasPolicyFeatures', 'HasRewardInputs', 'HasScoringBatch', 'HasTreeGrowth'],
        'setters': ['boundaries', 'boundarySampleSize', 'boundaryStrategy', 'crossFitFolds', 'featureCols', 'handleInvalid', 'maxBins', 'maxDepth', 'maxMemoryMB', 'minNodeSize', 'nativeThreads', 'outcomeCol', 'outcomeMaxDepth', 'outcomeMinNodeSize', 'propensityCol', 'propensityFloor', 'propensityModel', 'refineBins', 'rewardCols', 'rewardType', 'rowIdCol', 'scoringBatchSize', 'searchDepth', 'thresholdSearch', 'treatmentCol', 'treatmentVocabulary'],
        'params': {},
    },
    'PolicyValueEvaluator': {
        'traits': [],
        'setters': ['baselineArm', 'bestArm', 'metricName', 'predictionCol', 'rewardCols', 'rewardsCol', 'treatmentVocabulary'],
        'params': {
            'baselineArm': {'doc': 'the arm to compare with, e.g. the control (label or index)', 'converter': 'toString'},
            'bestArm': {'doc': 'the best constant arm chosen on the training data (label or index)', 'converter': 'toString'},
            'metricName': {'doc': 'policyValue | gainOverBestArm | gainOverBaseline', 'converter': 'toString', 'default': 'policyValue'},
            'predictionCol': {'doc': "the policy's arm index column", 'converter': 'toString', 'default': 'policy_action_index'},
            'rewardCols': {'doc': 'one Γ column per arm, vocabulary order (instead of rewardsCol)', 'converter': 'toListString'},
            'rewardsCol': {'doc': 'array<double> column of Γ per arm, vocabulary order', 'converter': 'toString'},
            'treatmentVocabulary': {'doc': 'arm labels, to name arms in the summary', 'converter': 'toListString'},
        },
    },
    'QiniEvaluator': {
        'traits': [],
        'setters': ['controlArm', 'outcomeCol', 'scoresCol', 'treatmentArm', 'treatmentCol', 'treatmentVocabulary', 'upliftCol'],
        'params': {
            'controlArm': {'doc': 'label of the control arm', 'converter': 'toString'},
            'outcomeCol': {'doc': 'numeric outcome column (scikit-uplift requires 0/1)', 'converter': 'toString'},
            'scoresCol': {'doc': "array<double> of per-arm scores in treatmentVocabulary order (the model's policy_scores)", 'converter': 'toString', 'default': 'policy_scores'},
            'treatmentArm': {'doc': 'label of the treated arm', 'converter': 'toString'},
            'treatmentCol': {'doc': 'column of arm labels', 'converter': 'toString'},
            'treatmentVocabulary': {'doc': 'arm labels in scoresCol order', 'converter': 'toListString'},
            'upliftCol': {'doc': 'numeric uplift score column; when unset, scoresCol[treatmentArm] − scoresCol[controlArm]', 'converter': 'toString'},
        },
    },
}
