package org.sparkzoo.models;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Parameter counts at the default input (1000 classes) against published references, counted from the
 * configuration (nothing is allocated): exact for every model; where DL4J cannot build the reference's layers
 * exactly, the difference is named ({@link Deviation}), computed from the configuration, and must be all there is.
 * Writes the table of models/README.md to target/param-table.md: {@code mvn -B -q -pl models test -Dtest=ParamCountTest}.
 */
class ParamCountTest {

    /** What a reference counts. */
    enum Kind {
        /** trainable parameters (torchvision's num_params, timm, papers) */
        TRAINABLE("trainable"),
        /** trainable parameters of the main classifier's path, auxiliary heads left out (torchvision googlenet) */
        MAIN_OUTPUT("trainable, no aux heads"),
        /** Keras' count_params(): trainable plus BN moving mean/variance */
        WITH_BN_STATS("incl. BN moving stats");

        final String words;

        Kind(String words) {
            this.words = words;
        }
    }

    /** A known, explained difference between our layers and the reference's. */
    enum Deviation {
        NONE("exact"),
        /** Keras builds the model's batch norms without scale (gamma); DL4J's batch norm always has one per channel. */
        BN_GAMMA("+ BN gamma (Keras: scale=False)");

        final String words;

        Deviation(String words) {
            this.words = words;
        }

        long parameters(ComputationGraphConfiguration conf) {
            if (this == NONE) {
                return 0;
            }
            long gammas = 0;
            for (GraphVertex v : conf.getVertices().values()) {
                if (v instanceof LayerVertex && ((LayerVertex) v).getLayerConf().getLayer() instanceof BatchNormalization) {
                    gammas += ((BatchNormalization) ((LayerVertex) v).getLayerConf().getLayer()).getNOut();
                }
            }
            return gammas;
        }
    }

    record Reference(String model, long params, Kind kind, String source, Deviation deviation) {
        Reference(String model, long params, Kind kind, String source) {
            this(model, params, kind, source, Deviation.NONE);
        }
    }

    static final String TV = "torchvision";
    static final String KERAS = "Keras Applications";

    static final List<Reference> REFERENCES = List.of(
            new Reference("lenet5", 61_706, Kind.TRAINABLE, "LeCun et al. 1998 (1x32x32, 10 classes; C3 fully connected: 61,706, the paper's partial C3 ~60k)"),
            new Reference("alexnet", 61_100_840, Kind.TRAINABLE, TV),
            new Reference("zfnet", 62_357_608, Kind.TRAINABLE, "paper Fig. 3 layer table, summed by hand (no published total)"),
            new Reference("vgg11", 132_863_336, Kind.TRAINABLE, TV),
            new Reference("vgg13", 133_047_848, Kind.TRAINABLE, TV),
            new Reference("vgg16", 138_357_544, Kind.TRAINABLE, TV),
            new Reference("vgg19", 143_667_240, Kind.TRAINABLE, TV),
            new Reference("nin", 7_595_176, Kind.TRAINABLE, "Caffe model zoo NiN-ImageNet layer table, summed by hand (no published total)"),
            new Reference("googlenet", 6_624_904, Kind.MAIN_OUTPUT, TV + " (aux_logits=False)"),
            new Reference("inception_v3", 27_161_264, Kind.TRAINABLE, TV + " (with AuxLogits)"),
            new Reference("resnet18", 11_689_512, Kind.TRAINABLE, TV),
            new Reference("resnet34", 21_797_672, Kind.TRAINABLE, TV),
            new Reference("resnet50", 25_557_032, Kind.TRAINABLE, TV),
            new Reference("resnet101", 44_549_160, Kind.TRAINABLE, TV),
            new Reference("resnet152", 60_192_808, Kind.TRAINABLE, TV),
            new Reference("resnet50_v2", 25_613_800, Kind.WITH_BN_STATS, KERAS + " ResNet50V2"),
            new Reference("wide_resnet50_2", 68_883_240, Kind.TRAINABLE, TV),
            new Reference("se_resnet50", 28_088_024, Kind.TRAINABLE, "timm seresnet50 / Cadene pretrainedmodels se_resnet50"),
            new Reference("inception_resnet_v2", 55_873_736, Kind.WITH_BN_STATS, KERAS + " InceptionResNetV2", Deviation.BN_GAMMA),
            new Reference("fractalnet", 164_031_016, Kind.TRAINABLE, "paper Sec. 4.3 (ResNet-34 stem/head, B=4, C=4, 128-1024), summed by hand"),
            new Reference("densenet121", 7_978_856, Kind.TRAINABLE, TV),
            new Reference("densenet169", 14_149_480, Kind.TRAINABLE, TV),
            new Reference("densenet201", 20_013_928, Kind.TRAINABLE, TV),
            new Reference("mobilenet_v1", 4_253_864, Kind.WITH_BN_STATS, KERAS + " MobileNet (alpha 1.0)"),
            new Reference("mobilenet_v2", 3_504_872, Kind.TRAINABLE, TV),
            new Reference("squeezenet1_1", 1_235_496, Kind.TRAINABLE, TV),
            new Reference("nasnet_mobile", 5_326_716, Kind.WITH_BN_STATS, KERAS + " NASNetMobile"),
            new Reference("xception", 22_910_480, Kind.WITH_BN_STATS, KERAS + " Xception"));

    /** torchvision's GFLOPS column (multiply-adds of conv and linear layers) for a check of {@link ModelStats#multiplyAdds}. */
    static final Object[][] TORCHVISION_GMACS = {{"alexnet", 0.71}, {"vgg16", 15.47}, {"resnet18", 1.81}, {"resnet50", 4.09},
            {"wide_resnet50_2", 11.40}, {"densenet121", 2.83}, {"mobilenet_v2", 0.30}, {"squeezenet1_1", 0.35}, {"inception_v3", 5.71}};

    static ComputationGraphConfiguration referenceConfiguration(String model) {
        ModelSpec spec = ModelRegistry.get(model);
        ModelConfig config = model.equals("lenet5") ? ModelConfig.of(10, 1, 32, 32) : spec.defaultConfig(1000);
        return spec.configuration(config);
    }

    static long ours(ComputationGraphConfiguration conf, Kind kind) {
        switch (kind) {
            case MAIN_OUTPUT:
                return ModelStats.trainableParamsMainOutput(conf);
            case WITH_BN_STATS:
                return ModelStats.allParams(conf);
            default:
                return ModelStats.trainableParams(conf);
        }
    }

    @Test
    void everyModelMatchesItsPublishedParameterCountExactly() throws IOException {
        assertEquals(ZooTest.REQUIRED.size(), REFERENCES.size(), "one reference per model");
        StringBuilder md = new StringBuilder();
        md.append("| model | input | ours: trainable | ours: compared | reference | counts | diff | explained by | source |\n");
        md.append("| --- | --- | ---: | ---: | ---: | --- | ---: | --- | --- |\n");
        List<String> failures = new ArrayList<>();
        for (Reference r : REFERENCES) {
            ComputationGraphConfiguration conf = referenceConfiguration(r.model);
            long trainable = ModelStats.trainableParams(conf);
            long compared = ours(conf, r.kind);
            long explained = r.deviation.parameters(conf);
            int size = r.model.equals("lenet5") ? 32 : ModelRegistry.get(r.model).defaultInputSize;
            md.append(String.format(Locale.ROOT, "| %s | %d | %,d | %,d | %,d | %s | %+,d | %s | %s |%n", r.model, size, trainable,
                    compared, r.params, r.kind.words, compared - r.params, r.deviation.words, r.source));
            if (compared != r.params + explained) {
                failures.add(r.model + ": " + compared + " vs " + r.params + (explained != 0 ? " + " + explained + " (" + r.deviation.words + ")" : ""));
            }
        }
        Path out = Paths.get("target", "param-table.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, md.toString());
        System.out.print(md);
        assertTrue(failures.isEmpty(), "not the published count: " + failures);
    }

    @Test
    void multiplyAddsMatchTorchvision() {
        for (Object[] row : TORCHVISION_GMACS) {
            String model = (String) row[0];
            ModelSpec spec = ModelRegistry.get(model);
            ComputationGraphConfiguration conf = spec.configuration(spec.defaultConfig(1000));
            double ours = ModelStats.multiplyAdds(conf, 3, spec.defaultInputSize, spec.defaultInputSize) / 1e9;
            assertEquals((Double) row[1], ours, 0.02 * (Double) row[1] + 0.005, model + " multiply-adds (G)");
        }
    }

    @Test
    void catalogListsEveryModel() {
        String table = ModelCatalog.listModelsTable();
        for (String name : ZooTest.REQUIRED) {
            assertTrue(table.contains(name + " "), name);
        }
        assertTrue(table.contains("25.56M") && table.contains("4.09G"), "resnet50's row: " + table);
    }
}
