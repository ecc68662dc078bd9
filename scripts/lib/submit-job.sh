# Submits one of sparkzoo's jobs: scripts/<job> [spark-submit options] [--] [job options].
# Spark options (--master, --conf, --driver-memory, ...) come first; the first argument that spark-submit does
# not know, or `--`, starts the job's own options (Airflow's SparkSubmitOperator runs scripts/<job> as its spark
# binary with application `--`). With no --master, Spark's embedded default local[*] is used.
sparkzoo_submit() {
  local class="$1"; shift
  source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
  sparkzoo_require_build
  local spark_args=() job_args=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --master|--deploy-mode|--conf|--driver-memory|--executor-memory|--executor-cores|--num-executors|--total-executor-cores|--name|--queue|--files|--archives|--properties-file|--driver-java-options|--driver-class-path|--keytab|--principal|--proxy-user|--jars|--packages|--repositories|--exclude-packages)
        spark_args+=("$1" "$2"); shift 2 ;;
      --verbose) spark_args+=("$1"); shift ;;
      --) shift; job_args+=("$@"); break ;;
      *) job_args+=("$@"); break ;;
    esac
  done
  local cp="$SPARKZOO_LIB/*"
  exec "$SPARKZOO_ROOT/scripts/spark-submit" \
    --class "$class" \
    --conf "spark.driver.extraClassPath=$cp" \
    --conf "spark.executor.extraClassPath=$cp" \
    "${spark_args[@]}" \
    "$SPARKZOO_APP_JAR" "${job_args[@]}"
}
