"""The embedded runner on small Pipelines of our own: Tekton's semantics, seen in the run objects,
the steps' logs and the files the steps wrote. Steps are real processes (``python -c``)."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import pytest

from iib_steps.tekton.runner import run_pipeline
from tests.iib_steps.tekton.conftest import pipeline, py_step, task_spec

WRITE = "import sys; open(sys.argv[1], 'w').write(sys.argv[2])"
FAIL = "import sys; print('working'); print('error: ' + sys.argv[1]); sys.exit(3)"


def writer(result: str = "out", value: str = "v", **fields) -> dict:
    return task_spec(
        py_step("write", WRITE, f"$(results.{result}.path)", value), results=[{"name": result}], **fields
    )


def test_results_flow_through_the_dag_into_pipeline_results(runs_dir: Path, validate_object) -> None:
    spec = pipeline(
        [
            {"name": "make", "taskSpec": writer("word", "$(params.greeting)")},
            {
                "name": "use",
                "params": [{"name": "w", "value": "$(tasks.make.results.word)"}],
                "taskSpec": {
                    "params": [{"name": "w"}],
                    "results": [
                        {"name": "list", "type": "array"},
                        {"name": "obj", "type": "object", "properties": {"a": {"type": "string"}}},
                    ],
                    "steps": [
                        py_step(
                            "json",
                            "import sys, json; open(sys.argv[1], 'w').write(json.dumps([sys.argv[3], 'x']));"
                            "open(sys.argv[2], 'w').write(json.dumps({'a': sys.argv[3]}))",
                            "$(results.list.path)",
                            "$(results.obj.path)",
                            "$(params.w)",
                        )
                    ],
                },
            },
        ],
        params=[{"name": "greeting", "default": "hello"}],
        results=[
            {"name": "first", "value": "$(tasks.use.results.list[0])"},
            {"name": "all", "type": "array", "value": "$(tasks.use.results.list[*])"},
            {"name": "key", "value": "$(tasks.use.results.obj.a)"},
        ],
    )
    result = run_pipeline(spec, params={"greeting": "hi"}, runs_dir=runs_dir)
    assert result.succeeded, result.message
    assert result.reason == "Succeeded"
    assert result.message == "Tasks Completed: 2 (Failed: 0, Cancelled 0), Skipped: 0"
    assert result.results == {"first": "hi", "all": ["hi", "x"], "key": "hi"}
    pr = result.pipelinerun
    assert [c["pipelineTaskName"] for c in pr["status"]["childReferences"]] == ["make", "use"]
    assert {"name": "all", "value": ["hi", "x"]} in pr["status"]["results"]
    use = result.taskruns["use"]
    assert use["status"]["results"][1] == {"name": "obj", "type": "object", "value": {"a": "hi"}}
    assert use["metadata"]["labels"]["tekton.dev/pipelineTask"] == "use"
    assert use["metadata"]["ownerReferences"][0]["uid"] == pr["metadata"]["uid"]
    for obj in (pr, *result.taskruns.values()):
        validate_object(obj)
    folder = runs_dir / result.name
    assert (
        json.loads((folder / "pipelinerun.json").read_text())["status"]["conditions"][0]["reason"]
        == "Succeeded"
    )
    assert (folder / f"{result.name}-use" / "json.log").is_file()
    assert (folder / f"{result.name}-use" / "taskrun.yaml").is_file()


NASTY = 'it\'s "quoted" $(params.other) `id` ; rm -rf / \n second line \\ ünïcødé ✓ $HOME'


def test_a_param_reaches_the_process_unchanged(runs_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "seen.json"
    spec = pipeline(
        [
            {
                "name": "echo",
                "params": [{"name": "v", "value": "$(params.value)"}],
                "taskSpec": task_spec(
                    py_step(
                        "argv",
                        "import sys, json; open(sys.argv[1], 'w').write(json.dumps(sys.argv[2:]))",
                        str(out),
                        "$(params.v)",
                        "--flag=$(params.v)",
                    ),
                    params=[{"name": "v"}],
                ),
            }
        ],
        params=[{"name": "value"}, {"name": "other", "default": "SUBSTITUTED"}],
    )
    result = run_pipeline(spec, params={"value": NASTY}, runs_dir=runs_dir)
    assert result.succeeded, result.message
    assert json.loads(out.read_text()) == [NASTY, f"--flag={NASTY}"]


def test_independent_tasks_run_at_the_same_time(runs_dir: Path, tmp_path: Path) -> None:
    # Each task announces itself and then waits for the other: run one after the other, the
    # first would give up and fail.
    meet = (
        "import sys, pathlib, time\n"
        "d = pathlib.Path(sys.argv[1]); (d / sys.argv[2]).touch()\n"
        "for _ in range(600):\n"
        "    if (d / sys.argv[3]).exists(): sys.exit(0)\n"
        "    time.sleep(0.05)\n"
        "print('error: never met ' + sys.argv[3]); sys.exit(1)\n"
    )
    shared = tmp_path / "shared"

    def meeter(me: str, other: str) -> dict:
        return {
            "name": me,
            "workspaces": [{"name": "w", "workspace": "shared"}],
            "taskSpec": task_spec(
                py_step("meet", meet, "$(workspaces.w.path)", me, other), workspaces=[{"name": "w"}]
            ),
        }

    spec = pipeline([meeter("left", "right"), meeter("right", "left")], workspaces=[{"name": "shared"}])
    result = run_pipeline(spec, workspaces={"shared": shared}, runs_dir=runs_dir)
    assert result.succeeded, result.message


def test_run_after_orders_tasks(runs_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "order"
    append = "import sys; open(sys.argv[1], 'a').write(sys.argv[2] + '\\n')"
    spec = pipeline(
        [
            {"name": "c", "runAfter": ["b"], "taskSpec": task_spec(py_step("s", append, str(log), "c"))},
            {"name": "b", "runAfter": ["a"], "taskSpec": task_spec(py_step("s", append, str(log), "b"))},
            {"name": "a", "taskSpec": task_spec(py_step("s", append, str(log), "a"))},
        ]
    )
    assert run_pipeline(spec, runs_dir=runs_dir).succeeded
    assert log.read_text().split() == ["a", "b", "c"]


def test_a_failed_step_fails_the_run_with_its_error_line(runs_dir: Path, validate_object) -> None:
    spec = pipeline(
        [
            {
                "name": "boom",
                "taskSpec": task_spec(
                    py_step("explode", FAIL, "the index is gone"), py_step("after", "print('never')")
                ),
            },
            {"name": "later", "runAfter": ["boom"], "taskSpec": writer()},
        ],
    )
    spec["spec"]["finally"] = [
        {
            "name": "report",
            "params": [
                {"name": "all", "value": "$(tasks.status)"},
                {"name": "one", "value": "$(tasks.boom.status)"},
            ],
            "taskSpec": task_spec(
                py_step("r", "import sys; print(sys.argv[1], sys.argv[2])", "$(params.all)", "$(params.one)"),
                params=[{"name": "all"}, {"name": "one"}],
            ),
        }
    ]
    result = run_pipeline(spec, runs_dir=runs_dir)
    assert not result.succeeded
    assert result.reason == "Failed"
    assert result.message.startswith("Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 1")
    assert "error: the index is gone" in result.message
    boom = result.taskruns["boom"]
    cond = boom["status"]["conditions"][0]
    assert (cond["status"], cond["reason"]) == ("False", "Failed")
    assert cond["message"] == '"step-explode" exited with code 3: error: the index is gone'
    steps = boom["status"]["steps"]
    assert steps[0]["terminated"]["exitCode"] == 3
    assert steps[1]["terminated"]["reason"] == "Skipped"
    assert result.pipelinerun["status"]["skippedTasks"] == [
        {"name": "later", "reason": "PipelineRun was stopping"}
    ]
    report_log = runs_dir / result.name / f"{result.name}-report" / "r.log"
    assert report_log.read_text().strip() == "Failed Failed"
    for obj in (result.pipelinerun, *result.taskruns.values()):
        validate_object(obj)


def test_when_expressions_skip_only_the_guarded_task(runs_dir: Path, validate_object) -> None:
    spec = pipeline(
        [
            {
                "name": "guarded",
                "when": [{"input": "$(params.go)", "operator": "in", "values": ["yes"]}],
                "taskSpec": writer(),
            },
            {"name": "after", "runAfter": ["guarded"], "taskSpec": writer()},
            {
                "name": "consumer",
                "params": [{"name": "x", "value": "$(tasks.guarded.results.out)"}],
                "taskSpec": task_spec(py_step("s", "pass"), params=[{"name": "x"}]),
            },
            {
                "name": "unless",
                "when": [{"input": "$(params.go)", "operator": "notin", "values": ["yes"]}],
                "taskSpec": writer(),
            },
        ],
        params=[{"name": "go"}],
    )
    result = run_pipeline(spec, params={"go": "no"}, runs_dir=runs_dir)
    assert result.succeeded, result.message
    assert result.reason == "Completed"
    skipped = {s["name"]: s for s in result.pipelinerun["status"]["skippedTasks"]}
    assert skipped["guarded"]["reason"] == "When Expressions evaluated to false"
    assert skipped["guarded"]["whenExpressions"] == [{"input": "no", "operator": "in", "values": ["yes"]}]
    assert skipped["consumer"]["reason"] == "Results were missing"
    assert set(result.taskruns) == {"after", "unless"}
    assert result.message == "Tasks Completed: 2 (Failed: 0, Cancelled 0), Skipped: 2"
    validate_object(result.pipelinerun)


def test_cel_when_expressions_are_refused_clearly(runs_dir: Path) -> None:
    spec = pipeline([{"name": "t", "when": [{"cel": "'a' == 'a'"}], "taskSpec": writer()}])
    result = run_pipeline(spec, runs_dir=runs_dir)
    assert not result.succeeded
    assert result.reason == "CELEvaluationFailed"
    assert "input/operator/values" in result.message


def test_retries_rerun_a_failed_task(runs_dir: Path, tmp_path: Path, validate_object) -> None:
    flaky = (
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1]); n = int(p.read_text()) if p.exists() else 0\n"
        "p.write_text(str(n + 1))\n"
        "print('attempt', n, 'retry-count', sys.argv[2]); sys.exit(0 if n >= 1 else 1)\n"
    )
    spec = pipeline(
        [
            {
                "name": "flaky",
                "retries": 2,
                "taskSpec": task_spec(
                    py_step("try", flaky, str(tmp_path / "count"), "$(context.task.retry-count)")
                ),
            }
        ]
    )
    result = run_pipeline(spec, runs_dir=runs_dir)
    assert result.succeeded, result.message
    tr = result.taskruns["flaky"]
    assert len(tr["status"]["retriesStatus"]) == 1
    assert tr["status"]["retriesStatus"][0]["conditions"][0]["reason"] == "Failed"
    folder = runs_dir / result.name / f"{result.name}-flaky"
    assert (folder / "try.log").read_text().strip() == "attempt 1 retry-count 1"
    assert (folder / "try.retry-0.log").read_text().strip() == "attempt 0 retry-count 0"
    validate_object(tr)


SLEEP = "import time; print('started', flush=True); time.sleep(60)"


def test_a_task_timeout_ends_the_taskrun_timed_out(runs_dir: Path, validate_object) -> None:
    spec = pipeline([{"name": "slow", "timeout": "1s", "taskSpec": task_spec(py_step("sleep", SLEEP))}])
    result = run_pipeline(spec, runs_dir=runs_dir)
    cond = result.taskruns["slow"]["status"]["conditions"][0]
    assert (cond["reason"], cond["message"]) == (
        "TaskRunTimeout",
        f'TaskRun "{result.name}-slow" failed to finish within "1s"',
    )
    assert result.reason == "Failed"
    validate_object(result.taskruns["slow"])


def test_the_pipeline_timeout_stops_everything(runs_dir: Path) -> None:
    spec = pipeline(
        [
            {"name": "slow", "taskSpec": task_spec(py_step("sleep", SLEEP))},
            {"name": "next", "runAfter": ["slow"], "taskSpec": writer()},
        ],
    )
    spec["spec"]["finally"] = [{"name": "fin", "taskSpec": writer()}]
    result = run_pipeline(spec, runs_dir=runs_dir, timeouts={"pipeline": "1s"})
    assert result.reason == "PipelineRunTimeout"
    assert result.message == f'PipelineRun "{result.name}" failed to finish within "1s"'
    skipped = {s["name"]: s["reason"] for s in result.pipelinerun["status"]["skippedTasks"]}
    assert skipped == {
        "next": "PipelineRun timeout has been reached",
        "fin": "PipelineRun timeout has been reached",
    }
    assert result.taskruns["slow"]["status"]["conditions"][0]["reason"] == "TaskRunCancelled"


def test_a_tasks_timeout_still_runs_finally(runs_dir: Path) -> None:
    spec = pipeline([{"name": "slow", "taskSpec": task_spec(py_step("sleep", SLEEP))}])
    spec["spec"]["finally"] = [{"name": "fin", "taskSpec": writer()}]
    result = run_pipeline(spec, runs_dir=runs_dir, timeouts={"pipeline": "1h", "tasks": "1s"})
    assert result.reason == "PipelineRunTimeout"
    assert result.taskruns["fin"]["status"]["conditions"][0]["reason"] == "Succeeded"


def test_cancel_stops_the_run(runs_dir: Path, validate_object) -> None:
    cancel = threading.Event()
    updates: list[dict] = []

    def on_log(task: str, step: str, line: str) -> None:
        if line == "started":
            cancel.set()

    spec = pipeline(
        [
            {"name": "slow", "taskSpec": task_spec(py_step("sleep", SLEEP))},
            {"name": "next", "runAfter": ["slow"], "taskSpec": writer()},
        ]
    )
    result = run_pipeline(spec, runs_dir=runs_dir, cancel=cancel, on_log=on_log, on_update=updates.append)
    assert (result.reason, result.message) == ("Cancelled", f'PipelineRun "{result.name}" was cancelled')
    tr = result.taskruns["slow"]
    assert tr["status"]["conditions"][0]["reason"] == "TaskRunCancelled"
    assert tr["status"]["steps"][0]["terminated"]["reason"] == "TaskRunCancelled"
    assert updates[0]["status"]["conditions"][0]["reason"] == "Running"
    assert updates[-1]["status"]["conditions"][0]["reason"] == "Cancelled"
    validate_object(result.pipelinerun)


def test_step_on_error_continue_and_exit_code_path(runs_dir: Path, tmp_path: Path) -> None:
    spec = pipeline(
        [
            {
                "name": "t",
                "taskSpec": task_spec(
                    py_step("fails", "import sys; sys.exit(5)", onError="continue"),
                    py_step(
                        "reads",
                        "import sys; print(open(sys.argv[1]).read())",
                        "$(steps.step-fails.exitCode.path)",
                    ),
                ),
            }
        ]
    )
    result = run_pipeline(spec, runs_dir=runs_dir)
    assert result.succeeded, result.message
    steps = result.taskruns["t"]["status"]["steps"]
    assert steps[0]["terminated"]["exitCode"] == 5
    assert (runs_dir / result.name / f"{result.name}-t" / "reads.log").read_text().strip() == "5"


def test_results_over_tektons_limit_fail_the_taskrun(runs_dir: Path) -> None:
    spec = pipeline([{"name": "big", "taskSpec": writer("out", "x" * 5000)}])
    result = run_pipeline(spec, runs_dir=runs_dir)
    cond = result.taskruns["big"]["status"]["conditions"][0]
    assert cond["reason"] == "TaskRunResultLargerThanAllowedLimit"
    assert "4096" in cond["message"]
    assert not result.succeeded


def test_pipeline_task_on_error_continue_ignores_its_failure(runs_dir: Path) -> None:
    spec = pipeline(
        [
            {"name": "bad", "onError": "continue", "taskSpec": task_spec(py_step("x", FAIL, "ignored"))},
            {"name": "after", "runAfter": ["bad"], "taskSpec": writer()},
        ]
    )
    result = run_pipeline(spec, runs_dir=runs_dir)
    assert result.succeeded, result.message
    assert result.message == "Tasks Completed: 2 (Failed: 1 (Ignored: 1), Cancelled 0), Skipped: 0"
    assert result.taskruns["bad"]["status"]["conditions"][0]["reason"] == "FailureIgnored"


def test_missing_params_and_workspaces_fail_before_any_taskrun(runs_dir: Path) -> None:
    spec = pipeline([{"name": "t", "taskSpec": writer()}], params=[{"name": "needed"}])
    result = run_pipeline(spec, runs_dir=runs_dir)
    assert result.reason == "ParameterMissing"
    assert "needed" in result.message
    assert result.taskruns == {}
    spec = pipeline([{"name": "t", "taskSpec": writer()}], workspaces=[{"name": "src"}])
    result = run_pipeline(spec, runs_dir=runs_dir)
    assert result.reason == "InvalidWorkspaceBindings"


def test_a_cycle_is_reported(runs_dir: Path) -> None:
    spec = pipeline(
        [
            {"name": "a", "runAfter": ["b"], "taskSpec": writer()},
            {"name": "b", "runAfter": ["a"], "taskSpec": writer()},
        ]
    )
    result = run_pipeline(spec, runs_dir=runs_dir)
    assert result.reason == "PipelineInvalidGraph"
    assert "cycle" in result.message


@pytest.mark.parametrize("bad", ["nope", "1x"])
def test_a_bad_timeout_is_one_line(runs_dir: Path, bad: str) -> None:
    spec = pipeline([{"name": "t", "timeout": bad, "taskSpec": writer()}])
    result = run_pipeline(spec, runs_dir=runs_dir)
    assert not result.succeeded
    assert "is not a duration" in result.taskruns.get("t", {}).get("status", {}).get("conditions", [{}])[
        0
    ].get("message", result.message)


def test_a_child_left_running_by_a_step_does_not_hold_the_run(runs_dir: Path) -> None:
    leave = "import subprocess; subprocess.Popen(['sleep', '300']); print('left a child')"
    spec = pipeline(
        [{"name": "t", "taskSpec": task_spec(py_step("leave", leave), py_step("next", "print('next')"))}]
    )
    result = run_pipeline(spec, runs_dir=runs_dir)
    assert result.succeeded, result.message
    assert (runs_dir / result.name / f"{result.name}-t" / "next.log").read_text() == "next\n"


def test_scripts_run_from_a_file_with_their_shebang_or_sh_set_e(runs_dir: Path) -> None:
    spec = pipeline(
        [
            {
                "name": "t",
                "params": [{"name": "v", "value": "$(params.value)"}],
                "taskSpec": {
                    "params": [{"name": "v"}],
                    "results": [{"name": "r"}],
                    "steps": [
                        {
                            "name": "python",
                            "image": "python",
                            "script": f"#!{sys.executable}\nimport sys\nprint('args', sys.argv[1:])\n",
                            "args": ["$(params.v)"],
                        },
                        {
                            "name": "shell",
                            "image": "sh",
                            "script": "false\necho never > $(results.r.path)\n",
                        },
                    ],
                },
            }
        ],
        params=[{"name": "value"}],
    )
    result = run_pipeline(spec, params={"value": "a b; c"}, runs_dir=runs_dir)
    folder = runs_dir / result.name / f"{result.name}-t"
    assert (folder / "python.log").read_text() == "args ['a b; c']\n"
    # No shebang: sh with set -e, so the script stops at `false`.
    assert result.taskruns["t"]["status"]["steps"][1]["terminated"]["exitCode"] == 1
    assert "results" not in result.taskruns["t"]["status"]


def test_a_step_timeout_fails_the_step(runs_dir: Path) -> None:
    spec = pipeline([{"name": "t", "taskSpec": task_spec(py_step("slow", SLEEP, timeout="1s"))}])
    result = run_pipeline(spec, runs_dir=runs_dir)
    cond = result.taskruns["t"]["status"]["conditions"][0]
    assert (cond["reason"], cond["message"]) == ("Failed", '"step-slow" exited because the step timed out')


def test_updates_name_each_taskrun_as_it_starts(runs_dir: Path) -> None:
    seen: list[list[str]] = []

    def on_update(pr: dict) -> None:
        seen.append([c["pipelineTaskName"] for c in pr["status"].get("childReferences", [])])

    spec = pipeline(
        [{"name": "a", "taskSpec": writer()}, {"name": "b", "runAfter": ["a"], "taskSpec": writer()}]
    )
    result = run_pipeline(spec, runs_dir=runs_dir, on_update=on_update)
    assert result.succeeded
    # Each TaskRun is announced while the run is going, before the final update.
    assert ["a"] in seen[:-1]
    assert ["a", "b"] in seen[:-1]
