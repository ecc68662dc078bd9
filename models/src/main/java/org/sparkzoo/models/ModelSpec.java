package org.sparkzoo.models;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkzoo.models.training.ZooGraph;

import java.util.function.Function;

/**
 * One entry of the zoo: a name users type, where the architecture comes from, the input sizes it takes, and the
 * builder that turns a {@link ModelConfig} into a DL4J graph. The graph's first output is the classifier used
 * for evaluation; further outputs (GoogLeNet's and Inception v3's auxiliary heads) only add training loss.
 */
public final class ModelSpec {
    public final String name;
    public final String family;
    public final String paper;
    public final int year;
    /** Input side (pixels) the paper trains at, e.g. 224 or 299. */
    public final int defaultInputSize;
    /** Smallest input side the architecture can take without a layer shrinking to nothing. */
    public final int minInputSize;
    private final Function<ModelConfig, ComputationGraphConfiguration> builder;

    public ModelSpec(String name, String family, String paper, int year, int defaultInputSize, int minInputSize,
                     Function<ModelConfig, ComputationGraphConfiguration> builder) {
        this.name = name;
        this.family = family;
        this.paper = paper;
        this.year = year;
        this.defaultInputSize = defaultInputSize;
        this.minInputSize = minInputSize;
        this.builder = builder;
    }

    /** The graph configuration for this input size and training setup; refuses an input smaller than the model takes. */
    public ComputationGraphConfiguration configuration(ModelConfig config) {
        if (config.height < minInputSize || config.width < minInputSize) {
            throw new IllegalArgumentException(String.format(
                    "model %s needs inputs of at least %dx%d, got %dx%d; use --image-size %d or larger (default %d)",
                    name, minInputSize, minInputSize, config.height, config.width, minInputSize, defaultInputSize));
        }
        return builder.apply(config);
    }

    /** The builder without the input-size check (tests use it to show the declared minimum is tight). */
    ComputationGraphConfiguration configurationUnchecked(ModelConfig config) {
        return builder.apply(config);
    }

    /** A freshly initialized network. */
    public ComputationGraph build(ModelConfig config) {
        ComputationGraph net = new ZooGraph(configuration(config));
        net.init();
        return net;
    }

    /** The configuration at the paper's input size, e.g. for parameter counts. */
    public ModelConfig defaultConfig(int numClasses) {
        return ModelConfig.of(numClasses, 3, defaultInputSize, defaultInputSize);
    }

    @Override
    public String toString() {
        return name;
    }
}
