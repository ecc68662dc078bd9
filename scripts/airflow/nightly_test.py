"""The checks of scripts/airflow/test-nightly, run by it inside the pinned Airflow venv with AIRFLOW_HOME set up.

Drives a real Airflow (`airflow dags test`, its metadata database) through the DAG sparkzoo_nightly on a small
Fashion-MNIST subset and prints one line per check; the first failed check prints what it saw and exits 1.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

DAG = "sparkzoo_nightly"
ROOT = Path(__file__).resolve().parents[2]
WORK = Path(os.environ["NIGHTLY_WORK"])
AIRFLOW = str(Path(sys.executable).parent / "airflow")
STARTED = time.monotonic()
ROUND_LINE = re.compile(r"epoch \d+/\d+ round \d+/")
JAVA_TRACE = "\tat "  # a Java stack trace line; the jobs print none for bad input
SPARK_CHATTER = re.compile(r"\d\d:\d\d:\d\d INFO (SparkContext|DAGScheduler|TaskSetManager|Executor|BlockManager\w*|MemoryStore|SparkUI|TaskSchedulerImpl):")


def check(ok: bool, what: str, detail: str = "") -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        print(detail[-6000:] if detail else "", flush=True)
        print(f"(work folder kept: {WORK})")
        sys.exit(1)


def airflow(*args: str) -> str:
    r = subprocess.run([AIRFLOW, *args], check=False, capture_output=True, text=True)
    if r.returncode != 0:
        check(False, f"airflow {' '.join(args)}", r.stdout + r.stderr)
    return r.stdout


class Run:
    """One `airflow dags test` run: its exit code, its output cut per task attempt, and its state in the database."""

    def __init__(self, name: str, date: str, conf: dict, during=None):
        self.name, self.date = name, date
        self.log = WORK / f"{name}.log"
        with open(self.log, "w") as out:
            p = subprocess.Popen([AIRFLOW, "dags", "test", DAG, date, "-c", json.dumps(conf)], stdout=out,
                                 stderr=subprocess.STDOUT, cwd=ROOT)
            self.during = during(p) if during else None
            try:
                self.rc = p.wait(timeout=420)
            except subprocess.TimeoutExpired:
                kill_tree(p.pid)
                check(False, f"{name}: airflow dags test finished within 420 s", self.log.read_text())
        self.text = self.log.read_text()
        self.attempts: dict[str, list[str]] = {}
        parts = re.split(r"\[DAG TEST\] starting task_id=(\S+) map_index=(-?\d+)", self.text)
        for i in range(1, len(parts), 3):
            key = parts[i] if parts[i + 1] == "-1" else f"{parts[i]}[{parts[i + 1]}]"
            self.attempts.setdefault(key, []).append(parts[i + 2])
        self.tasks, self.result = db_state(date)

    def task_log(self, key: str, attempt: int = -1) -> str:
        return self.attempts.get(key, [""])[attempt]


def db_state(date: str) -> tuple[dict, dict | None]:
    """The latest run for the logical date: {task[map]: (state, try_number)} and publish's XCom."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    logical = datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=UTC)
    with create_session() as s:
        dr = (s.query(DagRun).filter(DagRun.dag_id == DAG, DagRun.logical_date == logical)
              .order_by(DagRun.id.desc()).first())
        tis = s.query(TaskInstance).filter(TaskInstance.dag_id == DAG, TaskInstance.run_id == dr.run_id).all()
        tasks = {(t.task_id if t.map_index < 0 else f"{t.task_id}[{t.map_index}]"): (getattr(t.state, "value", t.state), t.try_number)
                 for t in tis}
        x = s.query(XComModel).filter(XComModel.dag_id == DAG, XComModel.run_id == dr.run_id,
                                      XComModel.task_id == "publish", XComModel.key == "return_value").first()
        return tasks, (XComModel.deserialize_value(x) if x else None)


def kill_tree(pid: int) -> list[int]:
    try:
        proc = psutil.Process(pid)
        procs = [*proc.children(recursive=True), proc]
    except psutil.NoSuchProcess:
        return []
    for q in procs:
        try:
            q.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    return [q.pid for q in procs]


def rounds(run_dir: Path) -> list[dict]:
    """The run's rounds, each once: parts in order, a resumed segment replacing the rows past its checkpoint."""
    out: list[dict] = []
    for part in sorted((run_dir / "metrics").glob("part-*.jsonl")):
        for m in map(json.loads, filter(str.strip, part.read_text().splitlines())):
            if m["type"] == "segment":
                out = [r for r in out if r["global_round"] <= m["global_round"]]
            elif m["type"] == "round":
                out.append(m)
    return out


def listing(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("*")) if p.is_file()}


def main() -> None:
    data, out = WORK / "fashion", WORK / "out"
    airflow("dags", "reserialize")
    errors = airflow("dags", "list-import-errors", "-o", "json")
    # Python warnings (graphviz missing) come first on stdout; the JSON is the last line
    check(errors.strip().splitlines()[-1:] in (["[]"], ["No data found"]), "airflow dags list-import-errors is empty", errors)
    airflow("pools", "set", "sparkzoo", "1", "sparkzoo Spark jobs")

    base = {
        "input": str(data), "output_root": str(out), "epochs": 1,
        "prep_options": {"resize": 0, "storage": "raw", "shard-size": 256},
        "train_options": {"validate-every": 0},
        "eval_options": {"resize-ratio": 1},
        "models": [{"model": "lenet5", "options": {"image-size": 28, "channels": 1}},
                   {"model": "squeezenet1_1", "options": {"image-size": 32, "channels": 1}}],
    }
    night = out / "20261130"
    runs = {m: night / "train" / m for m in ("lenet5", "squeezenet1_1")}

    # 1. the whole pipeline, for real
    first = Run("run1", "2026-11-30", base)
    check(first.rc == 0, f"run 1: airflow dags test {DAG} 2026-11-30 succeeds", first.text)
    want = {"plan", "prep", "train[0]", "train[1]", "eval", "publish"}
    check(all(first.tasks.get(t, ("",))[0] == "success" for t in want), f"run 1: {sorted(want)} all succeeded", str(first.tasks))
    r = first.result or {}
    report = Path(r.get("report", "/nonexistent"))
    check(report.is_file() and report.parent == night / "report", f"run 1: the report is where publish's XCom says ({report})", str(r))
    metrics = json.loads((night / "report" / "metrics.json").read_text())
    check([m["name"] for m in metrics["members"]] == ["lenet5@28", "squeezenet1_1@32"] and metrics["images"] == 500
          and r["top1"] == metrics["top1"], f"run 1: ensemble of both models on 500 images, top-1 {r.get('top1')} in XCom and metrics.json", str(metrics)[:2000])
    check(json.loads((night / "result.json").read_text()) == r, "run 1: result.json in the dated folder matches the XCom", str(r))
    train0 = first.task_log("train[0]")
    chatter = [line for line in first.text.splitlines() if SPARK_CHATTER.search(line)]
    check("epoch 1/1 round 1/" in train0 and not chatter, "run 1: task logs keep sparkzoo's progress lines and no Spark INFO chatter",
          "\n".join(chatter[:20]) or train0)

    # 2. the same night again: prep skipped, training complete, report rewritten, nothing duplicated
    before = {"shards": listing(out / "shards"), **{m: (len(rounds(d)), listing(d / "checkpoints")) for m, d in runs.items()}}
    report_mtime = (night / "report" / "metrics.json").stat().st_mtime_ns
    second = Run("run2", "2026-11-30", base)
    check(second.rc == 0, "run 2 (same date): airflow dags test succeeds", second.text)
    check(second.tasks.get("prep", ("",))[0] == "skipped" and "unchanged since" in second.task_log("prep"),
          "run 2: prep skipped (input and options unchanged)", second.task_log("prep") + str(second.tasks))
    for i, (model, run_dir) in enumerate(runs.items()):
        log = second.task_log(f"train[{i}]")
        check(re.search(r"resuming from \S+ckpt-e0001-r000000\.zip", log) and not ROUND_LINE.search(log)
              and (len(rounds(run_dir)), listing(run_dir / "checkpoints")) == before[model],
              f"run 2: train {model} resumed its finished run: no new round, no new checkpoint", log)
    check(listing(out / "shards") == before["shards"], "run 2: shards untouched", "")
    # the same checkpoints on the same images: top-1 may move by one image where threads reorder a sum at a tie
    check((night / "report" / "metrics.json").stat().st_mtime_ns > report_mtime and second.result
          and second.result["report"] == first.result["report"] and abs(second.result["top1"] - first.result["top1"]) <= 1 / 500,
          "run 2: eval rewrote the report in the same place, same top-1 within one image", f"{first.result}\n{second.result}")
    check(sorted(p.name for p in out.iterdir()) == ["20261130", "shards"]
          and sorted(p.name for p in night.iterdir()) == ["report", "result.json", "train"]
          and sorted(p.name for p in (night / "train").iterdir()) == sorted(runs),
          "run 2: one dated folder, one run folder per model, one report", str(sorted(listing(out))[:50]))

    # 3. a train task killed halfway is retried by Airflow and continues from its last checkpoint
    kill_conf = base | {"models": [{"model": "lenet5", "options": {"image-size": 28, "channels": 1}}],
                        "train_options": {"validate-every": 0, "batch-size-per-worker": 16, "averaging-frequency": 1,
                                          "checkpoint-every-rounds": 4}}
    kill_run = out / "20261201" / "train" / "lenet5"

    def kill_after_round_8(p: subprocess.Popen) -> dict:
        deadline = time.monotonic() + 300
        while p.poll() is None and time.monotonic() < deadline:
            done = [int(c.stem[-6:]) for c in (kill_run / "checkpoints").glob("ckpt-e0000-r*.zip")] if (kill_run / "checkpoints").is_dir() else []
            if done and max(done) >= 8:
                jvms = [q for q in psutil.process_iter(["cmdline"])
                        if "org.sparkzoo.jobs.TrainJob" in " ".join(q.info["cmdline"] or []) and str(kill_run) in " ".join(q.info["cmdline"] or [])]
                return {"checkpoint": max(done), "killed": [pid for q in jvms for pid in kill_tree(q.pid)]}
            time.sleep(0.2)
        return {}

    third = Run("run3-kill", "2026-12-01", kill_conf, during=kill_after_round_8)
    check(bool(third.during and third.during["killed"]), f"run 3: train-job's JVM killed after checkpoint round {(third.during or {}).get('checkpoint')}", str(third.during) + third.text)
    check(third.rc == 0 and third.tasks.get("train[0]") == ("success", 2) and len(third.attempts.get("train[0]", [])) == 2,
          "run 3: Airflow retried the killed train task once and the run succeeded", str(third.tasks) + third.text)
    killed, retried = third.attempts["train[0]"]
    m = re.search(r"resuming from \S+ckpt-e0000-r(\d+)\.zip", retried)
    first_round = re.search(r"epoch 1/1 round (\d+)/", retried)
    check("epoch 1/1 done" not in killed and m is not None and int(m.group(1)) >= third.during["checkpoint"]
          and first_round is not None and int(first_round.group(1)) == int(m.group(1)) + 1,
          f"run 3: the retry resumed from round {int(m.group(1)) if m else '?'} and went on with round {first_round.group(1) if first_round else '?'}, not from zero",
          retried)
    per_epoch = int(re.search(r"= (\d+) rounds per epoch", killed).group(1))
    check("epoch 1/1 done" in retried and (kill_run / "model.zip").is_file()
          and {x["round"] for x in rounds(kill_run)} == set(range(1, per_epoch + 1)),
          f"run 3: the epoch completed, every one of its {per_epoch} rounds trained", retried)

    # 4. bad params fail their task with sparkzoo's one-line error, and are not retried; the settings not in the
    # run's conf come from the Variable sparkzoo_nightly (what scheduled runs use)
    airflow("variables", "set", "sparkzoo_nightly", json.dumps({k: v for k, v in base.items() if k != "models"}))
    bad_model = Run("run4-unknown-model", "2026-12-02", {"models": [{"model": "lenet6"}]})
    airflow("variables", "delete", "sparkzoo_nightly")
    log = bad_model.task_log("train[0]")
    check(bad_model.tasks.get("plan", ("",))[0] == "success" and bad_model.tasks.get("prep", ("",))[0] == "skipped",
          "run 4: input, output root and prep options from the Variable sparkzoo_nightly (prep skipped: same shards)",
          bad_model.task_log("plan") + bad_model.task_log("prep") + str(bad_model.tasks))
    check(bad_model.rc != 0 and bad_model.tasks.get("train[0]") == ("failed", 1)
          and "train-job: unknown model 'lenet6'; did you mean lenet5?" in log and JAVA_TRACE not in log,
          "run 4: an unknown model fails train once with train-job's one-line error", log + str(bad_model.tasks))
    missing = WORK / "no-such-input"
    bad_input = Run("run5-missing-input", "2026-12-03", base | {"input": str(missing), "output_root": str(WORK / "out-missing")})
    log = bad_input.task_log("prep")
    check(bad_input.rc != 0 and bad_input.tasks.get("prep") == ("failed", 1)
          # the path as Hadoop qualifies it (file:/...) or as given
          and re.search(rf"prep-job: error: input (file:)?{re.escape(str(missing))} does not exist", log)
          and JAVA_TRACE not in log,
          "run 5: a missing input fails prep once with prep-job's one-line error", log + str(bad_input.tasks))
    print(f"test-nightly: all checks passed in {time.monotonic() - STARTED:.0f} s (after the venv)")


if __name__ == "__main__":
    main()
