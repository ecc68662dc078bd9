package org.sparkzoo.jobs;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.deploy.SparkHadoopUtil;
import org.apache.spark.sql.SparkSession;
import org.sparkzoo.jobs.kryo.BulkNd4jRegistrator;

/**
 * Builds the SparkSession every job runs in, so that what DL4J needs on the executors is there even when the
 * user submits without this project's {@code conf/spark-defaults.conf}: oneDNN helpers on, the offline time
 * source for training stats, Kryo with ND4J's registrations and bulk-copied arrays, uncompressed broadcasts, and
 * no locality wait (STACK.md: with the default 3 s all tasks went to one executor). A local run binds 127.0.0.1
 * unless the user chose an address.
 */
public final class SparkSessions {
    public static final String TIME_SOURCE_PROPERTY = "org.deeplearning4j.spark.time.TimeSource";
    public static final String SYSTEM_CLOCK = "org.deeplearning4j.spark.time.SystemClockTimeSource";
    static final String[] EXECUTOR_JAVA_OPTIONS = {
            "-Dorg.eclipse.deeplearning4j.helpers.disable=false",
            "-D" + TIME_SOURCE_PROPERTY + "=" + SYSTEM_CLOCK,
    };

    private SparkSessions() {
    }

    public static SparkSession create(String appName) {
        // Training stats otherwise ask an NTP pool for the time and die offline.
        if (System.getProperty(TIME_SOURCE_PROPERTY) == null) {
            System.setProperty(TIME_SOURCE_PROPERTY, SYSTEM_CLOCK);
        }
        SparkConf conf = new SparkConf();
        conf.setIfMissing("spark.master", "local[*]");
        conf.setIfMissing("spark.app.name", appName);
        conf.setIfMissing("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
        conf.setIfMissing("spark.kryo.registrator", BulkNd4jRegistrator.class.getName());
        // parameter broadcasts are float arrays, which LZ4 barely shrinks: compressing costs more than it saves
        conf.setIfMissing("spark.broadcast.compress", "false");
        conf.setIfMissing("spark.locality.wait", "0");
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        bindLocally(conf, System.getenv("SPARK_LOCAL_IP"));
        String executorOptions = conf.get("spark.executor.extraJavaOptions", "");
        for (String option : EXECUTOR_JAVA_OPTIONS) {
            String key = option.substring(0, option.indexOf('=') + 1);
            if (!executorOptions.contains(key)) {
                executorOptions = (executorOptions + " " + option).trim();
            }
        }
        conf.set("spark.executor.extraJavaOptions", executorOptions);
        return SparkSession.builder().config(conf).getOrCreate();
    }

    /**
     * On a local master, binds the driver (and its block manager) to the loopback address when the user set
     * neither spark.driver.host, spark.driver.bindAddress nor SPARK_LOCAL_IP: Spark otherwise picks the machine's
     * network address and listens beyond the machine. The web UI follows only SPARK_LOCAL_IP, which the scripts
     * set for local runs (scripts/lib/submit-job.sh).
     */
    static void bindLocally(SparkConf conf, String sparkLocalIp) {
        boolean chosen = conf.contains("spark.driver.host") || conf.contains("spark.driver.bindAddress")
                || (sparkLocalIp != null && !sparkLocalIp.isEmpty());
        if (conf.get("spark.master").startsWith("local") && !chosen) {
            conf.set("spark.driver.host", LOOPBACK);
            conf.set("spark.driver.bindAddress", LOOPBACK);
        }
    }

    static final String LOOPBACK = "127.0.0.1";

    /**
     * The Hadoop configuration the session will have (spark.hadoop.* of spark-submit's --conf and
     * spark-defaults.conf: fs.defaultFS, endpoints, credentials), for files read before the session starts. It is
     * Spark's own code for sc.hadoopConfiguration, which is public to Java though Scala marks it spark-internal.
     */
    public static Configuration hadoopConfiguration() {
        return SparkHadoopUtil.get().newConfiguration(new SparkConf());
    }

    public static boolean isLocal(SparkSession spark) {
        return spark.sparkContext().master().startsWith("local");
    }
}
