package org.sparkzoo.jobs.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Output;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import scala.reflect.ClassTag$;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Arrays through Spark's own KryoSerializer with the registrator the jobs set: bit-exact, and in blocks. */
class BulkArraySerializerTest {
    private static SerializerInstance kryo(String registrator) {
        SparkConf conf = new SparkConf(false).set("spark.kryo.registrator", registrator);
        return new KryoSerializer(conf).newInstance();
    }

    private static final scala.reflect.ClassTag<INDArray> TAG = ClassTag$.MODULE$.apply(INDArray.class);

    private static INDArray roundTrip(SerializerInstance ser, INDArray a) {
        ByteBuffer bytes = ser.serialize(a, TAG);
        return ser.deserialize(bytes, TAG);
    }

    /** The stream path (Spark's broadcasts and task results over 1 MB use it). */
    private static INDArray roundTripStream(SerializerInstance ser, INDArray a) {
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) (a.length() * a.dataType().width()) + 1024);
        ser.serializeStream(out).writeObject(a, TAG).close();
        return ser.deserializeStream(new ByteArrayInputStream(out.toByteArray())).readObject(TAG);
    }

    private static void assertSame(INDArray expected, INDArray actual) {
        assertEquals(expected.dataType(), actual.dataType());
        assertArrayEquals(expected.shape(), actual.shape());
        assertEquals(expected.ordering(), actual.ordering());
        assertArrayEquals(bits(expected), bits(actual), "values must be bit-exact: " + expected + " vs " + actual);
    }

    private static byte[] bits(INDArray a) {
        if (a.isEmpty()) {
            return new byte[0];
        }
        INDArray dense = a.dup('c');
        ByteBuffer b = dense.data().asNio();
        byte[] out = new byte[(int) (dense.length() * dense.dataType().width())];
        b.get(out);
        return out;
    }

    /** Fastest of three serialize + deserialize round trips, in nanoseconds. */
    private static long fastestRoundTrip(SerializerInstance ser, INDArray a) {
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            long t0 = System.nanoTime();
            roundTripStream(ser, a);
            best = Math.min(best, System.nanoTime() - t0);
        }
        return best;
    }

    @Test
    void everyKindOfArrayComesBackExactly() {
        SerializerInstance ser = kryo(BulkNd4jRegistrator.class.getName());
        INDArray big = Nd4j.rand(DataType.FLOAT, 3, 1_000_003); // several copy blocks, not a multiple of one
        INDArray matrix = Nd4j.linspace(1, 12, 12, DataType.DOUBLE).reshape(3, 4);
        List<INDArray> arrays = List.of(
                big,
                matrix,
                matrix.transpose(),                                           // a view in 'f' order
                matrix.get(NDArrayIndex.interval(1, 3), NDArrayIndex.all()),  // a view with an offset
                big.reshape(-1).get(NDArrayIndex.interval(17, 2_000_017)),   // a range of a flat vector (a state view)
                matrix.getColumn(2),                                          // a view whose elements are strided
                Nd4j.linspace(0, 9, 10, DataType.FLOAT).reshape('f', 2, 5),
                Nd4j.createFromArray(1, -2, Integer.MAX_VALUE),
                Nd4j.createFromArray(Long.MIN_VALUE, 7L),
                Nd4j.createFromArray(true, false, true),
                Nd4j.rand(DataType.FLOAT, 4, 4).castTo(DataType.HALF),
                Nd4j.rand(DataType.FLOAT, 4, 4).castTo(DataType.BFLOAT16),
                Nd4j.scalar(3.5f),
                Nd4j.create(DataType.FLOAT, 0, 5),
                Nd4j.empty(DataType.FLOAT));
        for (INDArray a : arrays) {
            assertSame(a, roundTrip(ser, a));
            assertSame(a, roundTripStream(ser, a));
        }
    }

    /** Counts writes through the OutputStream API: what a serializer going through a DataOutputStream makes, one per element. */
    private static final class CountingOutput extends Output {
        long requires;

        CountingOutput() {
            super(4096, -1);
        }

        @Override
        public void write(int value) {
            requires++;
            super.write(value);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) {
            requires++;
            super.write(bytes, offset, length);
        }
    }

    private static long requires(String registrator, INDArray a) {
        Kryo kryo = new KryoSerializer(new SparkConf(false).set("spark.kryo.registrator", registrator)).newKryo();
        CountingOutput out = new CountingOutput();
        kryo.writeClassAndObject(out, a);
        return out.requires;
    }

    @Test
    void anArrayIsCopiedInBlocksNotElementByElement() {
        INDArray params = Nd4j.rand(DataType.FLOAT, 8_000_000); // 32 MB: a third of ResNet-50's parameters
        long bulk = requires(BulkNd4jRegistrator.class.getName(), params);
        long stock = requires("org.nd4j.kryo.Nd4jRegistrator", params);
        assertTrue(bulk < 100, "32 MB must be written in blocks: " + bulk + " stream writes");
        assertTrue(stock >= params.length(), "ND4J's own serializer writes element by element: " + stock + " stream writes");
        long bulkNanos = fastestRoundTrip(kryo(BulkNd4jRegistrator.class.getName()), params);
        long stockNanos = fastestRoundTrip(kryo("org.nd4j.kryo.Nd4jRegistrator"), params);
        System.out.printf("32 MB of parameters through a byte array, serialize + deserialize: bulk %.3f s, ND4J's serializer %.3f s%n",
                bulkNanos / 1e9, stockNanos / 1e9);
    }
}
