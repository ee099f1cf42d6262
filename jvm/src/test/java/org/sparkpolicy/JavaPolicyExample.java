package org.sparkpolicy;

import java.util.Map;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sparkpolicy.synthetic.PlantedPolicyData;
import org.sparkpolicy.ml.PolicyTreeLearner;
import org.sparkpolicy.ml.PolicyTreeModel;

/**
 * The toolkit from Java: fit a policy tree, score, read the signatures, save and load. Compiled and
 * run by the test suite (JavaApiSuite), so the public API stays callable from Java.
 */
public final class JavaPolicyExample {
  private JavaPolicyExample() {}

  /** Returns the number of scored rows whose action matches the planted policy. */
  public static long run(SparkSession spark, String savePath) {
    Dataset<Row> data = PlantedPolicyData.generate(spark, 30000L, 5, 4, 1.0, 7L);
    PolicyTreeModel model = new PolicyTreeLearner()
        .setFeatureCols(new String[] {"x0", "x1", "x2", "x3", "x4"})
        .setRewardCols(new String[] {"g0", "g1", "g2"})
        .setMaxDepth(2)
        .fit(data);
    String[] arms = model.getTreatmentVocabulary();
    Map<String, String> signatures = model.signatures();
    if (arms.length != 3 || signatures.size() != 6) {
      throw new IllegalStateException("unexpected model: " + arms.length + " arms, " + signatures.size() + " signatures");
    }
    System.out.println(model.toDebugString());
    try {
      model.write().overwrite().save(savePath);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    PolicyTreeModel loaded = PolicyTreeModel.load(savePath);
    if (!loaded.signatures().equals(signatures)) {
      throw new IllegalStateException("signatures changed across save/load");
    }
    return loaded.transform(data).where("policy_action_index = planted_arm").count();
  }
}
