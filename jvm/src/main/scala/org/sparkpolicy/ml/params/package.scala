package org.sparkpolicy.ml

/**
 * The Params traits, one per concern, each with its Params, defaults, getters and setters written
 * once and shared by every stage that has them (as xgboost4j-spark's `params/`). A trait is generic in
 * the stage (`HasTreeGrowth[S]`), so setters return the stage itself to Scala and, through the trait's
 * generic interface (no mixin forwarders, see the pom), to Java. The Python package's Params are
 * generated from these (`python/tools/gen_params.py`). Imports only the settings types of `train`.
 */
package object params
