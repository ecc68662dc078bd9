package org.sparkzoo.jobs.kryo;

import com.esotericsoftware.kryo.Kryo;
import org.nd4j.kryo.Nd4jRegistrator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * ND4J's Kryo registrations, with ND4J arrays moved by {@link BulkArraySerializer}: the registrator sparkzoo's
 * jobs set as {@code spark.kryo.registrator} (replacing {@code org.nd4j.kryo.Nd4jRegistrator}, which it extends).
 */
public class BulkNd4jRegistrator extends Nd4jRegistrator {
    @Override
    public void registerClasses(Kryo kryo) {
        super.registerClasses(kryo);
        kryo.register(Nd4j.getBackend().getNDArrayClass(), new BulkArraySerializer());
    }
}
