# Shared by the scripts: where the project, its built jars and the Spark runtime are.
# Sourced, not run. Honors SPARK_HOME (a real Spark 3.5 installation) and SPARKZOO_CONF_DIR.
SPARKZOO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SPARKZOO_CONF_DIR="${SPARKZOO_CONF_DIR:-$SPARKZOO_ROOT/conf}"
SPARKZOO_APP_JAR="$SPARKZOO_ROOT/jobs/target/sparkzoo-jobs.jar"
SPARKZOO_LIB="$SPARKZOO_ROOT/jobs/target/lib"
EMBEDDED_SPARK_HOME="$SPARKZOO_ROOT/jobs/spark-runtime/target/spark-home"
export SPARK_SCALA_VERSION="${SPARK_SCALA_VERSION:-2.12}"
if [ -z "${SPARK_HOME:-}" ]; then
  export SPARK_HOME="$EMBEDDED_SPARK_HOME"
fi
export SPARK_CONF_DIR="${SPARK_CONF_DIR:-$SPARKZOO_CONF_DIR}"

sparkzoo_require_build() {
  if [ ! -f "$SPARKZOO_APP_JAR" ] || [ ! -d "$SPARKZOO_LIB" ]; then
    echo "sparkzoo is not built: run 'mvn -q -DskipTests package' in $SPARKZOO_ROOT first" >&2
    exit 1
  fi
  if [ ! -d "$SPARK_HOME/jars" ]; then
    echo "no Spark runtime at SPARK_HOME=$SPARK_HOME: unset SPARK_HOME to use the embedded one (built by 'mvn package'), or point it at a Spark 3.5 installation" >&2
    exit 1
  fi
}

# The native kernels' process settings, read once when ND4J's library loads (so they must be in the environment,
# not set from Java); the user's own values win. Measured with scripts/bench-kernels (BENCHMARKS.md, "Per-core"):
# OpenMP threads that sleep between parallel regions (passive): spinning (active) won lenet5's median step on 2 threads,
# but its spinning thread starved the JVM's own threads, and one step in ten took 50-80 ms instead of 11 (lenet5's
# mean step 1.8x slower; the seventh session's A/B in BENCHMARKS.md), but that first spin a little (GOMP_SPINCOUNT,
# which libgomp's explicit count puts above the policy: 10,000 pauses, tens to hundreds of microseconds), because
# a passive thread is woken with a futex for each of the thousands of parallel regions a step runs (densenet121 16@112
# +16%, mobilenet_v2 +10%, resnet50 +3%, lenet5's mean step unchanged; eleventh session, BENCHMARKS.md); and glibc keeping freed activation buffers instead of unmapping them (each fresh mmap costs page faults on every
# step: resnet18 +6-15%). That keeping works only in glibc's main arena: other threads get arenas whose heaps
# top out at 64 MB, so every larger array (a deserialized ResNet-50 parameter vector, 100 MB) was mmap'd afresh and
# faulted in page by page; one arena keeps them too (ResNet-50 round on 2 workers 5.2-7.4 s -> 3.6-3.7 s, resnet18
# step +15%, BENCHMARKS.md). conf/spark-defaults.conf sets the same for executors (spark.executorEnv.*).
# SPARKZOO_PEER_ENV: an env(1) prefix that removes the settings set here (not the user's own), for the benchmark
# scripts' PyTorch peers, which run as a PyTorch user's would: PyTorch's OpenMP is libgomp too, and the policy
# above would make it sleep between its ops as well.
SPARKZOO_PEER_ENV=(env)
sparkzoo_setting() {
  if [ -z "${!1+x}" ]; then
    export "$1=$2"
    SPARKZOO_PEER_ENV+=(-u "$1")
  fi
}
sparkzoo_setting OMP_WAIT_POLICY passive
sparkzoo_setting GOMP_SPINCOUNT 10000
sparkzoo_setting MALLOC_ARENA_MAX 1
sparkzoo_setting MALLOC_MMAP_THRESHOLD_ 1073741824
sparkzoo_setting MALLOC_TRIM_THRESHOLD_ 1073741824
sparkzoo_setting MALLOC_TOP_PAD_ 268435456
