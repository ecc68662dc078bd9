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
