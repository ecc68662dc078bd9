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
  # a local run listens on 127.0.0.1 only (driver, block manager, web UI) unless the user chose an address
  if [ -z "${SPARK_LOCAL_IP:-}" ] && sparkzoo_local_unbound "${spark_args[@]}"; then
    export SPARK_LOCAL_IP=127.0.0.1
  fi
  local cp="$SPARKZOO_LIB/*"
  exec "$SPARKZOO_ROOT/scripts/spark-submit" \
    --class "$class" \
    --conf "spark.driver.extraClassPath=$cp" \
    --conf "spark.executor.extraClassPath=$cp" \
    "${spark_args[@]}" \
    "$SPARKZOO_APP_JAR" "${job_args[@]}"
}

# True when spark-submit options (spark.master defaults to local[*]) give a local master and choose no driver
# address (spark.driver.host, spark.driver.bindAddress). The web UI binds only to SPARK_LOCAL_IP, else 0.0.0.0.
sparkzoo_local_unbound() {
  local master="local[*]"
  while [ $# -gt 0 ]; do
    case "$1" in
      --master) master="$2"; shift 2 ;;
      --conf)
        case "$2" in
          spark.master=*) master="${2#spark.master=}" ;;
          spark.driver.host=*|spark.driver.bindAddress=*) return 1 ;;
        esac
        shift 2 ;;
      *) shift ;;
    esac
  done
  case "$master" in local*) return 0 ;; *) return 1 ;; esac
}
