package org.sparkzoo.jobs.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Kryo serializer for ND4J arrays that copies the array's memory in blocks. ND4J's own {@code Nd4jSerializer}
 * writes one element at a time and reads back through a boxing per-element path: for the 2 x 100 MB of
 * ResNet-50's parameters and Nesterov state that an averaging round moves each way, seconds of work where a
 * memory copy takes tens of milliseconds. Format: byte order, data type, empty or not, order, rank, shape, then the elements in the
 * machine's byte order (writer and reader are executors and a driver of one cluster, all x86-64 here; the
 * byte order is written and checked so that a mixed cluster fails loudly instead of reading garbage).
 */
public final class BulkArraySerializer extends Serializer<INDArray> {
    private static final int BLOCK = 1 << 20;
    private static final boolean LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    private static final ThreadLocal<byte[]> BLOCKS = ThreadLocal.withInitial(() -> new byte[BLOCK]);

    @Override
    public void write(Kryo kryo, Output output, INDArray array) {
        output.writeBoolean(LITTLE_ENDIAN);
        output.writeString(array.dataType().name());
        // elements that lie in one run of the buffer (a whole array, a row range, the updater's state view of
        // dl4j-spark's broadcast) are copied from where they lie; others (a column slice) to a dense array first
        INDArray dense = array.isEmpty() || Shape.hasDefaultStridesForShape(array) ? array : array.dup(array.ordering());
        output.writeBoolean(dense.isEmpty());
        output.writeByte(dense.ordering());
        long[] shape = dense.shape();
        output.writeVarInt(shape.length, true);
        for (long d : shape) {
            output.writeVarLong(d, true);
        }
        if (dense.isEmpty()) {
            return;
        }
        ByteBuffer bytes = bytes(dense);
        byte[] block = BLOCKS.get();
        while (bytes.hasRemaining()) {
            int n = Math.min(block.length, bytes.remaining());
            bytes.get(block, 0, n);
            output.writeBytes(block, 0, n);
        }
    }

    @Override
    public INDArray read(Kryo kryo, Input input, Class<INDArray> type) {
        boolean littleEndian = input.readBoolean();
        if (littleEndian != LITTLE_ENDIAN) {
            throw new IllegalStateException("an ND4J array was written on a machine of the other byte order: "
                    + "run the driver and executors on machines of one byte order");
        }
        DataType dataType = DataType.valueOf(input.readString());
        boolean empty = input.readBoolean();
        char order = (char) input.readByte();
        long[] shape = new long[input.readVarInt(true)];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = input.readVarLong(true);
        }
        if (empty) {
            return shape.length == 0 ? Nd4j.empty(dataType) : Nd4j.create(dataType, shape, order);
        }
        INDArray array = Nd4j.createUninitialized(dataType, shape, order);
        ByteBuffer bytes = bytes(array);
        byte[] block = BLOCKS.get();
        while (bytes.hasRemaining()) {
            int n = Math.min(block.length, bytes.remaining());
            input.readBytes(block, 0, n);
            bytes.put(block, 0, n);
        }
        return array;
    }

    /** The array's elements as a byte buffer over its native memory, from its offset, exactly length x element width long. */
    private static ByteBuffer bytes(INDArray dense) {
        long width = dense.dataType().width();
        long from = dense.offset() * width;
        long size = dense.length() * width;
        if (from + size > Integer.MAX_VALUE) {
            throw new IllegalStateException("an ND4J array of " + size + " bytes is larger than a serialized block can be (2 GB)");
        }
        ByteBuffer view = dense.data().asNio().duplicate();
        view.limit((int) (from + size));
        view.position((int) from);
        return view.slice();
    }
}
