package org.sparkzoo.models.vertices;

import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException;

/**
 * Channel-wise scaling {@code x * s} of a feature map x [N,C,H,W] by per-channel gates s [N,C,1,1], as in
 * squeeze-and-excitation. DL4J's {@link ElementWiseVertex} (Product) broadcasts correctly at run time and
 * backpropagates the broadcast sum, but its configuration-time shape check rejects inputs of different sizes;
 * this subclass only relaxes that check. The first input is the feature map, the second the gates.
 */
public class BroadcastProductVertex extends ElementWiseVertex {
    private static final long serialVersionUID = 1L;

    public BroadcastProductVertex() {
        super(Op.Product);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... inputs) throws InvalidInputTypeException {
        if (inputs.length != 2 || inputs[0].getType() != InputType.Type.CNN || inputs[1].getType() != InputType.Type.CNN) {
            throw new InvalidInputTypeException("BroadcastProductVertex takes a feature map [C,H,W] and gates [C,1,1], got "
                    + java.util.Arrays.toString(inputs));
        }
        InputType.InputTypeConvolutional x = (InputType.InputTypeConvolutional) inputs[0];
        InputType.InputTypeConvolutional s = (InputType.InputTypeConvolutional) inputs[1];
        if (x.getChannels() != s.getChannels() || s.getHeight() != 1 || s.getWidth() != 1) {
            throw new InvalidInputTypeException("BroadcastProductVertex: gates must be [" + x.getChannels()
                    + ",1,1] to scale a feature map " + x + ", got " + s);
        }
        return x;
    }

    @Override
    public BroadcastProductVertex clone() {
        return new BroadcastProductVertex();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BroadcastProductVertex;
    }

    @Override
    public int hashCode() {
        return 0x5E5E;
    }
}
