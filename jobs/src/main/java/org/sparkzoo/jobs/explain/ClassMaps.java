package org.sparkzoo.jobs.explain;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.sparkzoo.models.vertices.DropoutVertex;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where a network looks for a class: a class activation map (Zhou et al. 2016) when its head is global average
 * pooling followed by one linear classifier, map_c = sum_k w_kc A_k over the last feature maps A; Grad-CAM
 * (Selvaraju et al. 2017) otherwise, map_c = ReLU(sum_k alpha_k A_k) with alpha_k the spatial mean of dz_c/dA_k,
 * z_c the class's logit (pre-softmax score). The choice is read from the graph's structure ({@link #plan}).
 */
public final class ClassMaps {
    public static final String CAM = "CAM";
    public static final String GRAD_CAM = "Grad-CAM";
    private static final String PROBE = "gradcam-probe";

    private ClassMaps() {
    }

    /** Which method a network gets and the vertices it reads: the feature maps and (CAM) the classifier. */
    public static final class Plan implements Serializable {
        private static final long serialVersionUID = 1L;
        public final String method;
        /** Vertex whose output is the last feature maps A [N, K, h, w]. */
        public final String features;
        /** CAM: the classifier layer whose W [K, classes] weighs A's channels; null when A already holds one map per class. */
        public final String classifier;

        Plan(String method, String features, String classifier) {
            this.method = method;
            this.features = features;
            this.classifier = classifier;
        }

        @Override
        public String toString() {
            return method + " on " + features + (classifier == null ? "" : " x " + classifier + ".W");
        }
    }

    /** CAM if output 0 is reached from an average GAP through inference-time identities only, else Grad-CAM on the last feature maps. */
    public static Plan plan(ComputationGraphConfiguration conf, InputType input) {
        String out = conf.getNetworkOutputs().get(0);
        Layer head = layer(conf, out);
        String v = single(conf, out);
        while (v != null && identityAtInference(conf.getVertices().get(v))) {
            v = single(conf, v);
        }
        if (v != null && layer(conf, v) instanceof GlobalPoolingLayer gap && gap.getPoolingType() == PoolingType.AVG) {
            String a = single(conf, v);
            if (head instanceof BaseOutputLayer && conf.getVertices().get(out) instanceof LayerVertex lv && lv.getPreProcessor() == null) {
                return new Plan(CAM, a, out);
            }
            if (head instanceof LossLayer && a != null) {
                return new Plan(CAM, a, null); // NiN / SqueezeNet: the last convolution already gives one map per class
            }
        }
        return new Plan(GRAD_CAM, lastFeatureMaps(conf, input), null);
    }

    /** The last vertex in topological order whose activations are 2-D feature maps (the input to the classifier part). */
    static String lastFeatureMaps(ComputationGraphConfiguration conf, InputType input) {
        Map<String, InputType> types = conf.getLayerActivationTypes(input);
        String last = null;
        for (String name : conf.getTopologicalOrderStr()) {
            // a dropout vertex is the identity at inference: name the layer whose maps it passes on
            if (!conf.getNetworkInputs().contains(name) && types.get(name) instanceof InputType.InputTypeConvolutional
                    && !identityAtInference(conf.getVertices().get(name))) {
                last = name;
            }
        }
        if (last == null) {
            throw new IllegalArgumentException("the network has no 2-D feature maps to explain");
        }
        return last;
    }

    private static boolean identityAtInference(GraphVertex v) {
        return v instanceof DropoutVertex || v instanceof LayerVertex lv && lv.getLayerConf().getLayer() instanceof DropoutLayer;
    }

    private static Layer layer(ComputationGraphConfiguration conf, String name) {
        return conf.getVertices().get(name) instanceof LayerVertex lv ? lv.getLayerConf().getLayer() : null;
    }

    /** The only input of a vertex, or null. */
    private static String single(ComputationGraphConfiguration conf, String name) {
        List<String> in = conf.getVertexInputs().get(name);
        return in != null && in.size() == 1 ? in.get(0) : null;
    }

    /**
     * Maps of one network for one image: built per network, it keeps the Grad-CAM copy of the network (with a
     * {@link Probe} after A and logits instead of softmax outputs) between images.
     */
    public static final class Explainer implements AutoCloseable {
        public final Plan plan;
        private final ComputationGraph net;
        private ComputationGraph probed;

        public Explainer(ComputationGraph net, InputType input) {
            this(net, plan(net.getConfiguration(), input));
        }

        /** With a given plan: the tests run Grad-CAM on a network that would get CAM. */
        Explainer(ComputationGraph net, Plan plan) {
            this.net = net;
            this.plan = plan;
        }

        /** One map [h, w] per class, at A's resolution: CAM (raw, signed) or Grad-CAM (after its ReLU). */
        public float[][][] maps(INDArray x, int... classes) {
            float[][][] out = new float[classes.length][][];
            if (CAM.equals(plan.method)) {
                INDArray a = net.feedForward(x, false).get(plan.features);
                long k = a.size(1), h = a.size(2), w = a.size(3);
                INDArray flat = a.dup('c').reshape('c', k, h * w);
                for (int i = 0; i < classes.length; i++) {
                    INDArray m = plan.classifier == null ? flat.getRow(classes[i]).dup()
                            : net.getLayer(plan.classifier).getParam("W").getColumn(classes[i]).reshape(1, k).mmul(flat);
                    out[i] = toFloat(m.reshape('c', h, w));
                }
                return out;
            }
            ComputationGraph g = probed();
            Probe.Impl probe = (Probe.Impl) g.getVertex(PROBE);
            int numOutputs = g.getConfiguration().getNetworkOutputs().size();
            INDArray a = net.feedForward(x, false).get(plan.features); // the network's own maps, not the copy's
            for (int i = 0; i < classes.length; i++) {
                Map<String, INDArray> acts = g.feedForward(new INDArray[]{x}, false, false);
                INDArray[] eps = new INDArray[numOutputs];
                for (int o = 0; o < numOutputs; o++) {
                    eps[o] = Nd4j.zeros(a.dataType(), acts.get(g.getConfiguration().getNetworkOutputs().get(o)).shape());
                }
                eps[0].putScalar(0, classes[i], 1.0); // dz_c/dz = e_c: the backward pass yields the class logit's gradient exactly
                g.backpropGradient(eps);
                INDArray grad = probe.gradient();
                long k = a.size(1), h = a.size(2), w = a.size(3);
                INDArray alpha = grad.dup('c').reshape('c', k, h * w).mean(1).reshape(1, k);
                INDArray m = Transforms.relu(alpha.mmul(a.dup('c').reshape('c', k, h * w)), false);
                out[i] = toFloat(m.reshape('c', h, w));
            }
            return out;
        }

        /** The network with a probe after A and every output layer replaced by its logits, sharing nothing with {@code net}. */
        private ComputationGraph probed() {
            if (probed != null) {
                return probed;
            }
            ComputationGraphConfiguration conf = net.getConfiguration().clone();
            String a = plan.features;
            for (Map.Entry<String, List<String>> e : conf.getVertexInputs().entrySet()) {
                List<String> in = new ArrayList<>(e.getValue());
                in.replaceAll(s -> s.equals(a) ? PROBE : s);
                e.setValue(in);
            }
            conf.getVertices().put(PROBE, new Probe());
            conf.getVertexInputs().put(PROBE, List.of(a));
            for (String out : conf.getNetworkOutputs()) {
                LayerVertex lv = (LayerVertex) conf.getVertices().get(out);
                Layer l = lv.getLayerConf().getLayer();
                Layer logits;
                if (l instanceof BaseOutputLayer o) {
                    logits = new DenseLayer.Builder().nIn(o.getNIn()).nOut(o.getNOut()).hasBias(o.hasBias())
                            .activation(Activation.IDENTITY).weightInit(WeightInit.XAVIER).biasInit(0).build();
                } else {
                    logits = new ActivationLayer.Builder().activation(Activation.IDENTITY).build();
                }
                logits.setLayerName(out);
                lv.getLayerConf().setLayer(logits);
            }
            List<String> folded = new ArrayList<>();
            for (Map.Entry<String, GraphVertex> e : conf.getVertices().entrySet()) {
                if (e.getValue() instanceof LayerVertex lv && lv.getLayerConf().getLayer() instanceof BatchNormalization bn) {
                    // DL4J's batch norm cannot backprop after an inference-mode forward pass: use the same per-channel affine map
                    Layer affine = new DepthwiseConvolution2D.Builder(1, 1).nIn(bn.getNOut()).nOut(bn.getNOut()).depthMultiplier(1)
                            .activation(Activation.IDENTITY).hasBias(true).convolutionMode(org.deeplearning4j.nn.conf.ConvolutionMode.Truncate)
                            .weightInit(WeightInit.XAVIER).biasInit(0).build();
                    affine.setLayerName(e.getKey());
                    lv.getLayerConf().setLayer(affine);
                    folded.add(e.getKey());
                }
            }
            // the gradient must outlive the backward pass: no workspaces in this copy
            conf.setTrainingWorkspaceMode(WorkspaceMode.NONE);
            conf.setInferenceWorkspaceMode(WorkspaceMode.NONE);
            conf.setTopologicalOrder(null);
            conf.setTopologicalOrderStr(null);
            ComputationGraph g = new ComputationGraph(conf);
            g.init();
            for (org.deeplearning4j.nn.api.Layer l : net.getLayers()) {
                String name = l.conf().getLayer().getLayerName();
                if (folded.contains(name)) {
                    BatchNormalization bn = (BatchNormalization) l.conf().getLayer();
                    INDArray gamma = bn.isLockGammaBeta() ? Nd4j.valueArrayOf(new long[]{bn.getNOut()}, bn.getGamma(), l.params().dataType())
                            : l.getParam("gamma").reshape(-1);
                    INDArray beta = bn.isLockGammaBeta() ? Nd4j.valueArrayOf(new long[]{bn.getNOut()}, bn.getBeta(), l.params().dataType())
                            : l.getParam("beta").reshape(-1);
                    INDArray std = bn.isUseLogStd() ? Transforms.pow(Nd4j.valueArrayOf(new long[]{bn.getNOut()}, 10.0, l.params().dataType()),
                            l.getParam("log10stdev").reshape(-1)) : Transforms.sqrt(l.getParam("var").reshape(-1).add(bn.getEps()));
                    INDArray scale = gamma.div(std);
                    INDArray shift = beta.sub(l.getParam("mean").reshape(-1).mul(scale));
                    org.deeplearning4j.nn.api.Layer target = g.getLayer(name);
                    target.setParam("W", scale.reshape(target.getParam("W").shape()).castTo(target.getParam("W").dataType()));
                    target.setParam("b", shift.reshape(target.getParam("b").shape()).castTo(target.getParam("b").dataType()));
                } else if (l.numParams() > 0) {
                    g.getLayer(name).setParams(l.params().dup());
                }
            }
            probed = g;
            return g;
        }

        @Override
        public void close() {
            probed = null; // its arrays are plain heap-backed ones (no workspaces): the GC frees them
        }
    }

    static float[][] toFloat(INDArray m) {
        float[][] out = new float[(int) m.size(0)][(int) m.size(1)];
        for (int i = 0; i < out.length; i++) {
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = m.getFloat(i, j);
            }
        }
        return out;
    }
}
