package org.sparkzoo.jobs;

import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;
import org.sparkzoo.jobs.eval.FashionMnistRun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A local run listens on the loopback address only, unless the user chose an address. */
class SparkSessionsTest {

    @Test
    void aLocalSessionsDriverBindsTheLoopbackAddress() throws Exception {
        assumeTrue(System.getenv("SPARK_LOCAL_IP") == null, "SPARK_LOCAL_IP is set: the user chose the address");
        FashionMnistRun f = FashionMnistRun.get(); // its session comes from SparkSessions.create on local[2]
        assertTrue(f.spark.sparkContext().master().startsWith("local"));
        assertEquals("127.0.0.1", f.spark.conf().get("spark.driver.host"));
        assertEquals("127.0.0.1", f.spark.conf().get("spark.driver.bindAddress"));
        assertEquals("127.0.0.1", f.spark.sparkContext().env().blockManager().blockManagerId().host());
    }

    @Test
    void theUsersAddressAndNonLocalMastersAreLeftAlone() {
        SparkConf local = new SparkConf().set("spark.master", "local[*]");
        SparkSessions.bindLocally(local, null);
        assertEquals("127.0.0.1", local.get("spark.driver.host"));

        SparkConf host = new SparkConf().set("spark.master", "local[2]").set("spark.driver.host", "10.1.2.3");
        SparkSessions.bindLocally(host, null);
        assertEquals("10.1.2.3", host.get("spark.driver.host"));
        assertFalse(host.contains("spark.driver.bindAddress"));

        SparkConf bind = new SparkConf().set("spark.master", "local[2]").set("spark.driver.bindAddress", "0.0.0.0");
        SparkSessions.bindLocally(bind, null);
        assertFalse(bind.contains("spark.driver.host"));

        SparkConf env = new SparkConf().set("spark.master", "local[2]");
        SparkSessions.bindLocally(env, "192.0.2.7");
        assertFalse(env.contains("spark.driver.host") || env.contains("spark.driver.bindAddress"));

        SparkConf cluster = new SparkConf().set("spark.master", "spark://master:7077");
        SparkSessions.bindLocally(cluster, null);
        assertFalse(cluster.contains("spark.driver.host") || cluster.contains("spark.driver.bindAddress"));
    }
}
