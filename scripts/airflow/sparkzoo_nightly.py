"""sparkzoo_nightly: prep-job -> train-job, one mapped task per model (--resume) -> eval-job ensemble -> result.

Every task runs one of the project's scripts (scripts/prep-job, train-job, eval-job) as SparkSubmitOperator's
spark binary: the scripts take spark-submit's options, then the job's own after `--`, and `exec` spark-submit, so
the operator's kill (execution timeout, a task marked failed) reaches the Spark driver itself.

A run writes only below <output_root>/<YYYYMMDD>/ (its logical date, else the time it ran after), so two nights
never share a folder and rerunning a night continues it: train-job --resume finishes at once when the run is
complete, eval-job rewrites the report. The shards in <output_root>/shards are shared by all nights and rebuilt
only when the input listing or the prep options change.

Settings are the DAG params below (a run's conf wins over the JSON Airflow Variable `sparkzoo_nightly`, which
wins over the defaults; the scheduled run uses the Variable), the Spark connection (`spark_conn_id`, master and
deploy mode) and the pool `sparkzoo` (how many Spark jobs run at once). See README.md, "Nightly with Airflow".
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import timedelta
from pathlib import Path

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import Connection, CronTriggerTimetable, Param, Variable, dag, task
from airflow.sdk.definitions.param import ParamsDict
from airflow.sdk.exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowNotFoundException,
    AirflowSkipException,
    ParamValidationError,
)

# the DAG ships inside the project: dags_folder points at scripts/airflow, or this file is linked into it
SPARKZOO_HOME = Path(__file__).resolve().parents[2]
POOL = "sparkzoo"
VARIABLE = "sparkzoo_nightly"
PREP_FINGERPRINT = "_prep-fingerprint.json"  # beside manifest.json; '_' files are metadata to Spark and Parquet
# a hung job is killed after this; retry_delay is Airflow's [core] default_task_retry_delay (300 s unless set)
TIMEOUTS = {"prep-job": timedelta(hours=6), "train-job": timedelta(hours=20), "eval-job": timedelta(hours=4)}

MODEL_SCHEMA = {
    "type": "object",
    "required": ["model"],
    "additionalProperties": False,
    "properties": {
        "model": {"type": "string", "description": "a name of train-job --list-models"},
        "name": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$", "description": "run folder and report name; default: model"},
        "options": {"type": "object", "description": "train-job options for this model, e.g. {\"image-size\": 28}"},
    },
}
PARAMS = {
    "input": Param("", type="string", description="the input tree prep-job reads (ImageNet layout or IDX files), a Hadoop URI"),
    "output_root": Param("", type="string", description="shards/ and one <YYYYMMDD>/ folder per night go here, a Hadoop URI"),
    "models": Param([{"model": "resnet50"}, {"model": "densenet121"}], type="array", minItems=1, items=MODEL_SCHEMA,
                    description="one train task per entry; their model.zip files are evaluated as an ensemble"),
    "epochs": Param(30, type="integer", minimum=1, description="train-job --epochs for every model"),
    "prep_options": Param({}, type="object", description="prep-job options, e.g. {\"resize\": 256, \"storage\": \"jpeg\"}"),
    "train_options": Param({}, type="object", description="train-job options for all models; a model's own options win"),
    "eval_options": Param({}, type="object", description="eval-job options, e.g. {\"views\": \"ten-crop\", \"ensemble\": \"mean\"}"),
    "spark_conn_id": Param("sparkzoo_spark", type="string", description="Airflow connection of type spark: master, deploy-mode"),
}


def job_options(options: dict) -> list[str]:
    """{"image-size": 28, "no-training-stats": true} -> ["--image-size", "28", "--no-training-stats"]."""
    args: list[str] = []
    for name, value in options.items():
        if value is False or value is None:
            continue
        args.append("--" + name)
        if value is not True:
            args.append(",".join(map(str, value)) if isinstance(value, list) else str(value))
    return args


def filesystem(uri: str):
    """fsspec's filesystem and path for a Hadoop URI; None where this Airflow worker has no fsspec driver for it."""
    from fsspec.core import url_to_fs

    try:
        return url_to_fs(uri.replace("s3a://", "s3://", 1))
    except (ImportError, ValueError):
        return None


class SparkzooJob(SparkSubmitOperator):
    """scripts/<job> through SparkSubmitOperator; the job's one-line error fails the task without retries."""

    template_fields = (*SparkSubmitOperator.template_fields, "_conn_id")

    def __init__(self, *, job: str, **kwargs):
        # setdefault: a mapped task's partial() arguments come back in kwargs when Airflow unmaps it
        kwargs.setdefault("name", f"sparkzoo-{job}")
        kwargs.setdefault("spark_binary", str(SPARKZOO_HOME / "scripts" / job))
        kwargs.setdefault("application", "--")
        kwargs.setdefault("pool", POOL)
        kwargs.setdefault("execution_timeout", TIMEOUTS[job])
        super().__init__(**kwargs)
        self.job = job

    def execute(self, context):
        try:
            super().execute(context)
        except AirflowException:
            error = self.user_error()
            if error:
                # bad input (unknown model, missing path, ...) fails the same way on every retry
                raise AirflowFailException(error) from None
            raise

    def user_error(self) -> str | None:
        # the hook keeps the last lines the job printed (provider 6.x); a job's own error is "<job>: <message>",
        # "<job>: failed: <exception>" is not the user's to fix and is retried
        lines = getattr(self._hook, "_last_submit_log_lines", None) or []
        prefix = f"{self.job}: "
        return next((line.strip() for line in reversed(lines)
                     if line.startswith(prefix) and not line.startswith(prefix + "failed: ")), None)


class PrepJob(SparkzooJob):
    """prep-job, skipped when the input listing and the options are those recorded beside the last manifest."""

    def execute(self, context):
        args = list(self.application_args)
        dataset = args[args.index("--output") + 1]
        fingerprint = self.fingerprint(args[args.index("--input") + 1], args)
        target = filesystem(dataset)
        recorded = None
        if fingerprint and target:
            fs, path = target
            if fs.exists(f"{path}/manifest.json") and fs.exists(f"{path}/{PREP_FINGERPRINT}"):
                recorded = json.loads(fs.cat_file(f"{path}/{PREP_FINGERPRINT}")).get("fingerprint")
        if fingerprint and recorded == fingerprint:
            raise AirflowSkipException(f"input and prep options unchanged since {dataset}/manifest.json ({fingerprint[:12]})")
        super().execute(context)
        if fingerprint and target:
            fs, path = target
            fs.pipe_file(f"{path}/{PREP_FINGERPRINT}", json.dumps({"fingerprint": fingerprint, "prep_args": args}).encode())

    def fingerprint(self, input_uri: str, args: list[str]) -> str | None:
        source = filesystem(input_uri)
        if source is None or not source[0].exists(source[1]):
            # prep-job runs and reads it through Hadoop, or says what is wrong with it
            self.log.info("cannot list %s from Airflow: prep-job runs", input_uri)
            return None
        fs, root = source
        digest = hashlib.sha256(json.dumps(args).encode())
        for path, info in sorted(fs.find(root, detail=True).items()):
            digest.update(f"{path[len(root):]}\t{info.get('size')}\t{info.get('mtime', info.get('LastModified'))}\n".encode())
        return digest.hexdigest()


def settings(params: dict, conf: dict, deployed: dict) -> dict:
    """The run's conf, then the Variable `sparkzoo_nightly` (deployed), then the defaults; validated against the params' schemas."""
    unknown = sorted(set(deployed) - set(PARAMS))
    if unknown:
        raise AirflowFailException(f"Variable {VARIABLE} has unknown keys {unknown}: use {sorted(PARAMS)}")
    resolved = ParamsDict(copy.deepcopy(PARAMS))
    try:
        for key, value in {**params, **{k: v for k, v in deployed.items() if k not in conf}}.items():
            resolved[key] = value
        values = resolved.validate()
    except ParamValidationError as e:
        raise AirflowFailException(f"bad setting in the run's conf or Variable {VARIABLE}: {e}") from None
    for key in ("input", "output_root"):
        if not values[key]:
            raise AirflowFailException(
                f"param '{key}' is empty: trigger with -c '{{\"{key}\": ...}}' or set it in the Variable {VARIABLE}")
    return values


@dag(
    dag_id="sparkzoo_nightly",
    schedule=CronTriggerTimetable("0 1 * * *", timezone="UTC"),
    catchup=False,
    max_active_runs=1,
    params=PARAMS,
    default_args={"retries": 2},
    tags=["sparkzoo"],
    doc_md=__doc__,
)
def sparkzoo_nightly():
    @task(execution_timeout=timedelta(minutes=5))
    def plan(params=None, dag_run=None, ti=None) -> list[dict]:
        """Every path and argument of the run, from its settings; the folder is keyed by the run's date.

        Returns the train runs (what the train task is mapped over); prep's and eval's arguments go to XCom keys.
        """
        s = settings(params, dag_run.conf or {}, Variable.get(VARIABLE, default={}, deserialize_json=True))
        try:
            Connection.get(s["spark_conn_id"])
        except AirflowNotFoundException:
            raise AirflowFailException(
                f"no Airflow connection '{s['spark_conn_id']}': set AIRFLOW_CONN_{s['spark_conn_id'].upper()}="
                '\'{"conn_type": "spark", "host": "local[*]", "extra": {"deploy-mode": "client"}}\'') from None
        names = [m.get("name", m["model"]) for m in s["models"]]
        if len(set(names)) != len(names):
            raise AirflowFailException(f"models {names} repeat a name: give each entry its own \"name\"")
        # scheduled runs and `airflow dags test DATE` have a logical date; manual runs may have only run_after
        date = (dag_run.logical_date or dag_run.run_after).strftime("%Y%m%d")
        root = s["output_root"].rstrip("/")
        dataset, night = f"{root}/shards", f"{root}/{date}"
        runs = [f"{night}/train/{name}" for name in names]
        ti.xcom_push("conn_id", s["spark_conn_id"])
        ti.xcom_push("night", night)
        ti.xcom_push("prep", ["--input", s["input"], "--output", dataset, "--overwrite", *job_options(s["prep_options"])])
        ti.xcom_push("eval", ["--checkpoints", ",".join(f"{run}/model.zip" for run in runs), "--data", dataset,
                              "--output", f"{night}/report", *job_options(s["eval_options"])])
        return [
            {"name": f"sparkzoo-train-{name}",
             "application_args": ["--model", m["model"], "--data", dataset, "--output", run, "--epochs", str(s["epochs"]),
                                  "--resume", *job_options({**s["train_options"], **m.get("options", {})})]}
            for name, m, run in zip(names, s["models"], runs)]

    p = plan()
    conn = "{{ ti.xcom_pull(task_ids='plan', key='conn_id') }}"
    prep = PrepJob(task_id="prep", job="prep-job", conn_id=conn, application_args=p["prep"])
    train = SparkzooJob.partial(task_id="train", job="train-job", conn_id=conn, trigger_rule="none_failed",
                                map_index_template="{{ task.name }}").expand_kwargs(p)
    evaluate = SparkzooJob(task_id="eval", job="eval-job", conn_id=conn, application_args=p["eval"])

    @task(multiple_outputs=False, execution_timeout=timedelta(minutes=5))
    def publish(night: str) -> dict:
        """The run's result: report path and top-1 / top-5 as XCom, and <night>/result.json beside the report."""
        target = filesystem(night)
        if target is None:
            raise AirflowFailException(f"cannot read {night} from the Airflow worker: install fsspec's driver for its scheme "
                                       "(s3fs for s3a:, pyarrow with libhdfs for hdfs:)")
        fs, path = target
        metrics = json.loads(fs.cat_file(f"{path}/report/metrics.json"))
        result = {
            "report": f"{night}/report/report.html",
            "metrics": f"{night}/report/metrics.json",
            "top1": metrics["top1"],
            "top5": metrics["top5"],
            "images": metrics["images"],
            "members": [{"name": m["name"], "top1": m["top1"], "top5": m["top5"]} for m in metrics["members"]],
        }
        fs.pipe_file(f"{path}/result.json", json.dumps(result, indent=2).encode())
        print(f"sparkzoo_nightly: top-1 {result['top1']:.4f} top-5 {result['top5']:.4f}, report {result['report']}")
        return result

    prep >> train >> evaluate >> publish(p["night"])


sparkzoo_nightly()
