package org.sparkzoo.models.training;

import org.bytedeco.dnnl.convolution_backward_data;
import org.bytedeco.dnnl.convolution_backward_weights;
import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.AlgoMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdDataAlgo;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdFilterAlgo;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.FwdAlgo;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A 2-D convolution's forward and backward passes on oneDNN 3.13 (the release PyTorch 2.15 links), called directly
 * through javacpp's {@code dnnl} preset, in place of DL4J's helper, which goes through libnd4j's {@code conv2d} ops
 * and the oneDNN 2.3 linked into libnd4j. Measured on an AVX-512 Xeon (BENCHMARKS.md, eleventh
 * session): libnd4j asks oneDNN for an inference-only forward with the layout left open, and oneDNN 2.3 answers with
 * its NHWC kernel, so every forward transposes its input and its output, and first transposes the (uninitialised)
 * output buffer as well, since libnd4j loads every argument, outputs included, through the same reorder. Here the
 * forward is a training forward with the layouts left to oneDNN (its blocked ones), the output is written, never
 * read first, and the backward passes take the forward's layouts as their hint. Undilated convolutions of NCHW float
 * activations only; other layouts, types and dilated kernels go to DL4J's helper, which this extends (so that its
 * layer treats it as oneDNN's). javacpp's preset shares ND4J's OpenMP runtime (one libgomp in the process).
 *
 * <p>Each helper (one per layer) keeps the primitives for the last input shape it saw; the blocked copies live only
 * for one call. {@code -Dsparkzoo.conv=libnd4j} leaves the convolutions to DL4J's helper (to compare).
 */
public class OneDnnConvHelper extends MKLDNNConvHelper {
    /** {@code -Dsparkzoo.conv=libnd4j} keeps DL4J's (libnd4j's) convolution helper. */
    public static final String CONV_PROPERTY = "sparkzoo.conv";
    private static engine cpu;
    private static final ThreadLocal<stream> STREAM = ThreadLocal.withInitial(() -> new stream(engine()));

    /** False under {@code -Dsparkzoo.conv=libnd4j}: every call goes to DL4J's helper. */
    private final boolean direct = enabled();
    private Plan plan;

    public OneDnnConvHelper(DataType dataType) {
        super(dataType);
    }

    /** Whether ZooGraph should put this helper in place of DL4J's. */
    public static boolean enabled() {
        return !"libnd4j".equals(System.getProperty(CONV_PROPERTY));
    }

    private static synchronized engine engine() {
        if (cpu == null) {
            cpu = new engine(engine.kind.cpu, 0);
        }
        return cpu;
    }

    /**
     * The primitives for one input shape and one set of convolution parameters, with the layouts they chose. Whether
     * a call has a bias is not part of the key: DL4J hands a layer without one a zero "dummy" bias in the forward and
     * none in the backward, so a plan keyed on it was rebuilt at every call (each of densenet121's 120 convolutions
     * made its primitives afresh twice a step). The forward and the weight gradient are made for each case they meet.
     */
    static final class Plan {
        final long[] key, x, w, y;
        final memory.desc src, weights, dst;   // ND4J's layouts: NCHW, OIHW
        final memory.desc bias;                // the bias's layout (a), for the calls that have one
        private final long[] strides, dilates, padL, padR;
        private final Forward[] forwards = new Forward[2];   // without, with a bias
        private final WeightGradient[] weightGradients = new WeightGradient[2];   // without, with the bias's
        convolution_backward_data backwardData;
        memory.desc dataDiffDst, dataWeights, dataDiffSrc;

        Plan(long[] key, long[] x, long[] w, long[] y, long[] strides, long[] dilates, long[] padL, long[] padR) {
            this.key = key;
            this.x = x;
            this.w = w;
            this.y = y;
            this.strides = strides;
            this.dilates = dilates;
            this.padL = padL;
            this.padR = padR;
            src = new memory.desc(x, memory.data_type.f32, memory.format_tag.nchw);
            weights = new memory.desc(w, memory.data_type.f32, memory.format_tag.oihw);
            dst = new memory.desc(y, memory.data_type.f32, memory.format_tag.nchw);
            bias = new memory.desc(new long[]{w[0]}, memory.data_type.f32, memory.format_tag.a);
        }

        /** The training forward with or without a bias, with the layouts oneDNN chose for it. */
        Forward forward(boolean hasBias) {
            int i = hasBias ? 1 : 0;
            if (forwards[i] == null) {
                forwards[i] = new Forward(new convolution_forward.primitive_desc(engine(),
                        dnnl.prop_kind.forward_training, dnnl.algorithm.convolution_direct, any(x), any(w),
                        hasBias ? bias : new memory.desc(), any(y), strides, dilates, padL, padR));
            }
            return forwards[i];
        }

        /**
         * The forward the backward passes take as their hint: the one with a bias where it was made (DL4J's layer
         * always passes one, a zero one if it has none), else the one without; their layouts are the same.
         */
        private convolution_forward.primitive_desc hint() {
            return (forwards[1] != null ? forwards[1] : forward(false)).desc;
        }

        /**
         * The backward-data primitive, made at the first backward pass, with the forward as its hint. The direct
         * kernel: oneDNN 3 keeps Winograd for inference only (2.5's F(4x4, 3x3) training kernels, taken for 3x3
         * stride-1 layers until the fourteenth session, are gone; BENCHMARKS.md has what that costs resnet50).
         */
        void backwardData() {
            if (backwardData != null) {
                return;
            }
            convolution_backward_data.primitive_desc data = new convolution_backward_data.primitive_desc(engine(),
                    dnnl.algorithm.convolution_direct, any(x), any(w), any(y), strides, dilates, padL, padR, hint());
            backwardData = new convolution_backward_data(data);
            dataDiffDst = data.diff_dst_desc();
            dataWeights = data.weights_desc();
            dataDiffSrc = data.diff_src_desc();
        }

        /** The backward-weights primitive with or without the bias gradient, with the forward as its hint. */
        WeightGradient weightGradient(boolean hasBias) {
            int i = hasBias ? 1 : 0;
            if (weightGradients[i] == null) {
                weightGradients[i] = new WeightGradient(new convolution_backward_weights.primitive_desc(engine(),
                        dnnl.algorithm.convolution_direct, any(x), any(w), hasBias ? bias : new memory.desc(), any(y),
                        strides, dilates, padL, padR, hint()));
            }
            return weightGradients[i];
        }

        private static memory.desc any(long[] dims) {
            return new memory.desc(dims, memory.data_type.f32, memory.format_tag.any);
        }
    }

    /** A backward-weights primitive and the layouts of its source, output gradient and weight gradient. */
    static final class WeightGradient {
        final convolution_backward_weights primitive;
        final memory.desc src, diffDst, diffWeights;

        WeightGradient(convolution_backward_weights.primitive_desc desc) {
            primitive = new convolution_backward_weights(desc);
            src = desc.src_desc();
            diffDst = desc.diff_dst_desc();
            diffWeights = desc.diff_weights_desc();
        }
    }

    /** A training forward primitive and the layouts of its source, weights and destination. */
    static final class Forward {
        final convolution_forward.primitive_desc desc;
        final convolution_forward primitive;
        final memory.desc src, weights, dst;

        Forward(convolution_forward.primitive_desc desc) {
            this.desc = desc;
            primitive = new convolution_forward(desc);
            src = desc.src_desc();
            weights = desc.weights_desc();
            dst = desc.dst_desc();
        }
    }

    private boolean handled(INDArray input, INDArray weights, CNN2DFormat format) {
        return direct && format == CNN2DFormat.NCHW && input.rank() == 4 && input.dataType() == DataType.FLOAT
                && weights.dataType() == DataType.FLOAT;
    }

    /**
     * The plan for this call (the last one, if the shapes and parameters are the same), with DL4J's padding at the
     * top and left and what the output size leaves at the bottom and right (negative where a strided window does not
     * reach the last rows, as libnd4j passes it too); null for the layouts, types and settings left to DL4J's helper.
     */
    Plan plan(INDArray input, INDArray weights, int[] kernel, int[] strides, int[] pad,
              ConvolutionMode mode, int[] dilation, CNN2DFormat format) {
        if (!handled(input, weights, format) || dilation[0] != 1 || dilation[1] != 1) {
            return null;   // dilated convolutions stay DL4J's (libnd4j's oneDNN path rejects them, DL4J then runs its own)
        }
        int[] outSize;
        int inH = (int) input.size(2), inW = (int) input.size(3);
        if (mode == ConvolutionMode.Same) {
            outSize = ConvolutionUtils.getOutputSize(input, kernel, strides, null, mode, dilation, CNN2DFormat.NCHW);
            pad = ConvolutionUtils.getSameModeTopLeftPadding(outSize, new int[]{inH, inW}, kernel, strides, dilation);
        } else {
            outSize = ConvolutionUtils.getOutputSize(input, kernel, strides, pad, mode, dilation, CNN2DFormat.NCHW);
        }
        long[] x = input.shape(), w = weights.shape(), y = {x[0], w[0], outSize[0], outSize[1]};
        long padB = (long) (outSize[0] - 1) * strides[0] + (long) (kernel[0] - 1) * dilation[0] + 1 - inH - pad[0];
        long padR = (long) (outSize[1] - 1) * strides[1] + (long) (kernel[1] - 1) * dilation[1] + 1 - inW - pad[1];
        long[] key = new long[]{x[0], x[1], x[2], x[3], w[0], w[1], w[2], w[3], y[0], y[1], y[2], y[3],
                strides[0], strides[1], dilation[0], dilation[1], pad[0], pad[1], padB, padR};
        if (plan == null || !Arrays.equals(plan.key, key)) {
            plan = new Plan(key, x, w, y, new long[]{strides[0], strides[1]},
                    new long[]{0, 0}, new long[]{pad[0], pad[1]}, new long[]{padB, padR});
        }
        return plan;
    }

    @Override
    public INDArray preOutput(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides, int[] pad,
                              AlgoMode mode, FwdAlgo fwdAlgo, ConvolutionMode convolutionMode, int[] dilation,
                              CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        Plan p = plan(input, weights, kernel, strides, pad, convolutionMode, dilation, format);
        if (p == null) {
            return super.preOutput(input, weights, bias, kernel, strides, pad, mode, fwdAlgo, convolutionMode, dilation, format, workspaceMgr);
        }
        INDArray x = denseOrCopy(input);
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, p.y, 'c');
        Forward f = p.forward(bias != null);
        try (Call call = new Call()) {
            memory src = call.in(p.src, x, f.src);
            memory w = call.in(p.weights, denseOrCopy(weights), f.weights);
            memory dst = call.out(p.dst, out, f.dst);
            IntMemoryMap args = call.args();
            args.put(dnnl.DNNL_ARG_SRC, src);
            args.put(dnnl.DNNL_ARG_WEIGHTS, w);
            if (bias != null) {
                args.put(dnnl.DNNL_ARG_BIAS, call.user(p.bias, bias));
            }
            args.put(dnnl.DNNL_ARG_DST, dst);
            f.primitive.execute(call.stream, args);
            call.finish();
        }
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray weights, INDArray bias, INDArray delta,
                                                     int[] kernel, int[] strides, int[] pad, INDArray biasGradView,
                                                     INDArray weightGradView, IActivation afn, AlgoMode mode,
                                                     BwdFilterAlgo bwdFilterAlgo, BwdDataAlgo bwdDataAlgo,
                                                     ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format,
                                                     LayerWorkspaceMgr workspaceMgr) {
        Plan p = plan(input, weights, kernel, strides, pad, convolutionMode, dilation, format);
        if (p == null) {
            return super.backpropGradient(input, weights, bias, delta, kernel, strides, pad, biasGradView, weightGradView,
                    afn, mode, bwdFilterAlgo, bwdDataAlgo, convolutionMode, dilation, format, workspaceMgr);
        }
        INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(), 'c');
        backward(p, input, weights, delta, dx, weightGradView, bias != null ? biasGradView : null);
        return new Pair<>(gradient(weightGradView, biasGradView), dx);
    }

    /** A convolution's parameter gradients as DL4J's layer expects them back from its helper. */
    static Gradient gradient(INDArray weightGrad, INDArray biasGrad) {
        Gradient g = new DefaultGradient();
        if (biasGrad != null) {
            g.gradientForVariable().put(ConvolutionParamInitializer.BIAS_KEY, biasGrad);
        }
        g.gradientForVariable().put(ConvolutionParamInitializer.WEIGHT_KEY, weightGrad);
        return g;
    }

    /**
     * The weight (and bias) gradient into the views, and the input gradient into {@code dx} unless it is null (a
     * layer that reads the network's input needs none).
     */
    void backward(Plan p, INDArray input, INDArray weights, INDArray delta, INDArray dx, INDArray weightGrad, INDArray biasGrad) {
        WeightGradient weightGradient = p.weightGradient(biasGrad != null);
        INDArray x = denseOrCopy(input), dy = denseOrCopy(delta), w = denseOrCopy(weights);
        try (Call call = new Call()) {
            memory dyData = null;
            if (dx != null) {
                p.backwardData();
                dyData = call.in(p.dst, dy, p.dataDiffDst);
                IntMemoryMap args = call.args();
                args.put(dnnl.DNNL_ARG_DIFF_DST, dyData);
                args.put(dnnl.DNNL_ARG_WEIGHTS, call.in(p.weights, w, p.dataWeights));
                args.put(dnnl.DNNL_ARG_DIFF_SRC, call.out(p.src, dx, p.dataDiffSrc));
                p.backwardData.execute(call.stream, args);
            }
            memory dyWeights = dyData != null && weightGradient.diffDst.equals(p.dataDiffDst) ? dyData : call.in(p.dst, dy, weightGradient.diffDst);
            IntMemoryMap args = call.args();
            args.put(dnnl.DNNL_ARG_SRC, call.in(p.src, x, weightGradient.src));
            args.put(dnnl.DNNL_ARG_DIFF_DST, dyWeights);
            args.put(dnnl.DNNL_ARG_DIFF_WEIGHTS, call.out(p.weights, weightGrad, weightGradient.diffWeights));
            if (biasGrad != null) {
                args.put(dnnl.DNNL_ARG_DIFF_BIAS, call.user(p.bias, biasGrad));
            }
            weightGradient.primitive.execute(call.stream, args);
            call.finish();
        }
    }

    /** Whether {@code a}'s elements lie in C order without gaps (size-1 dimensions may have any stride). */
    static boolean dense(INDArray a) {
        long expected = 1;
        for (int i = a.rank() - 1; i >= 0; i--) {
            if (a.size(i) != 1 && a.stride(i) != expected) {
                return false;
            }
            expected *= a.size(i);
        }
        return true;
    }

    private static INDArray denseOrCopy(INDArray a) {
        return dense(a) ? a : a.dup('c');
    }

    /**
     * The oneDNN memories of one call: ND4J's arrays wrapped as they are, the primitive's own layouts as buffers
     * oneDNN allocates, the reorders in and out, all freed when the call ends.
     */
    private static final class Call implements AutoCloseable {
        final stream stream = STREAM.get();
        private final List<Pointer> owned = new ArrayList<>();
        private final List<memory[]> outputs = new ArrayList<>();

        /** A fresh argument map, freed with the call. */
        IntMemoryMap args() {
            IntMemoryMap m = new IntMemoryMap();
            owned.add(m);
            return m;
        }

        /** ND4J's array as a oneDNN memory in its own (user) layout. */
        memory user(memory.desc layout, INDArray a) {
            if (!dense(a)) {
                throw new IllegalArgumentException("oneDNN convolution: a " + Arrays.toString(a.shape())
                        + " array with strides " + Arrays.toString(a.stride()) + " is not C-contiguous");
            }
            // ND4J's view buffers point at their first element already (their offset is applied natively)
            memory m = new memory(layout, engine(), a.data().addressPointer());
            owned.add(m);
            return m;
        }

        /** An input: reordered into the primitive's layout where that differs. */
        memory in(memory.desc layout, INDArray a, memory.desc wanted) {
            memory u = user(layout, a);
            if (wanted.equals(layout)) {
                return u;
            }
            memory m = new memory(wanted, engine());
            owned.add(m);
            reorder r = new reorder(u, m);
            owned.add(r);
            r.execute(stream, u, m);
            return m;
        }

        /** An output: written in the primitive's layout and reordered into the array by {@link #finish}. */
        memory out(memory.desc layout, INDArray a, memory.desc wanted) {
            memory u = user(layout, a);
            if (wanted.equals(layout)) {
                return u;
            }
            memory m = new memory(wanted, engine());
            owned.add(m);
            outputs.add(new memory[]{m, u});
            return m;
        }

        void finish() {
            for (memory[] pair : outputs) {
                reorder r = new reorder(pair[0], pair[1]);
                owned.add(r);
                r.execute(stream, pair[0], pair[1]);
            }
            stream._wait();
        }

        @Override
        public void close() {
            for (Pointer p : owned) {
                p.close();
            }
        }
    }
}
