"""``iib-step tekton run pipeline|task`` as a user runs it: a real process, its output and status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.iib_steps.tekton.conftest import PY

IIB_STEP = str(Path(sys.executable).parent / "iib-step")
DATA = Path(__file__).parent / "data"

PIPELINE = {
    "apiVersion": "tekton.dev/v1",
    "kind": "Pipeline",
    "metadata": {"name": "cli"},
    "spec": {
        "params": [
            {"name": "msg"},
            {"name": "items", "type": "array", "default": []},
            {"name": "fail", "default": "no"},
        ],
        "results": [{"name": "said", "value": "$(tasks.say.results.said)"}],
        "tasks": [
            {
                "name": "say",
                "params": [
                    {"name": "msg", "value": "$(params.msg)"},
                    {"name": "items", "value": ["$(params.items[*])"]},
                    {"name": "fail", "value": "$(params.fail)"},
                ],
                "taskSpec": {
                    "params": [{"name": "msg"}, {"name": "items", "type": "array"}, {"name": "fail"}],
                    "results": [{"name": "said"}],
                    "steps": [
                        {
                            "name": "echo",
                            "image": "python",
                            "command": [
                                PY,
                                "-c",
                                "import sys; print(sys.argv[3:]); open(sys.argv[1], 'w').write("
                                "sys.argv[2]); sys.exit(sys.argv[3] == 'yes' and 'error: asked to fail')",
                            ],
                            "args": [
                                "$(results.said.path)",
                                "$(params.msg)",
                                "$(params.fail)",
                                "$(params.items[*])",
                            ],
                        }
                    ],
                },
            }
        ],
    },
}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [IIB_STEP, "tekton", "run", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_a_pipeline_run_streams_logs_and_prints_its_outcome(tmp_path: Path) -> None:
    file = tmp_path / "p.yaml"
    file.write_text(yaml.safe_dump(PIPELINE))
    done = run(
        "pipeline",
        str(file),
        "-p",
        "msg=hi; $(x) ü",
        "-p",
        "items=a,b",
        "-p",
        "items=c",
        "--runs-dir",
        str(tmp_path / "runs"),
        "--name",
        "cli-run",
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "[say : echo] ['no', 'a', 'b', 'c']"
    assert lines[1] == (
        "PipelineRun cli-run succeeded: Succeeded: Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 0"
    )
    assert lines[2] == "  result said: hi; $(x) ü"
    assert (tmp_path / "runs" / "cli-run" / "cli-run-say" / "echo.log").is_file()


def test_a_failed_run_exits_1_with_the_step_line_and_o_json_prints_the_object(tmp_path: Path) -> None:
    file = tmp_path / "p.yaml"
    file.write_text(yaml.safe_dump(PIPELINE))
    done = run(
        "pipeline", str(file), "-p", "msg=x", "-p", "fail=yes", "-o", "json", "--runs-dir", str(tmp_path)
    )
    assert done.returncode == 1
    obj = json.loads(done.stdout)
    assert obj["kind"] == "PipelineRun"
    assert obj["status"]["conditions"][0]["reason"] == "Failed"
    assert "say: error: asked to fail" in obj["status"]["conditions"][0]["message"]
    assert "[say : echo] error: asked to fail" in done.stderr


def test_usage_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    file = tmp_path / "p.yaml"
    file.write_text(yaml.safe_dump(PIPELINE))
    for args in (
        ["pipeline", "no-such-pipeline"],
        ["pipeline", str(file), "-p", "bogus=1"],
        ["pipeline", str(file), "-w", "novalue"],
        ["pipeline", str(file), "--runtime", "vm"],
    ):
        done = run(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith("error: ")


def test_a_task_run_by_name(tmp_path: Path) -> None:
    done = run(
        "task",
        "greet",
        "--tasks-dir",
        str(DATA / "tasks"),
        "-p",
        "who=cli",
        "-p",
        "how.mark=?",
        "--runs-dir",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert "[greet] version 0.2 template step []" in done.stdout
    assert "  result greeting: hello, cli?" in done.stdout


def test_help_does_not_import_the_runner() -> None:
    code = "import sys; from iib_steps.cli import app; print('iib_steps.tekton.runner' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    )


def test_a_pipelinerun_file(tmp_path: Path) -> None:
    run_obj = {
        "apiVersion": "tekton.dev/v1",
        "kind": "PipelineRun",
        "metadata": {"name": "from-file"},
        "spec": {"pipelineSpec": PIPELINE["spec"], "params": [{"name": "msg", "value": "file"}]},
    }
    file = tmp_path / "run.yaml"
    file.write_text(yaml.safe_dump(run_obj))
    done = run("pipelinerun", str(file), "--runs-dir", str(tmp_path / "runs"))
    assert done.returncode == 0, done.stderr
    assert "PipelineRun from-file succeeded" in done.stdout
    assert "  result said: file" in done.stdout
