"""A list option takes every value up to the next option (how Tekton array params reach a step)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from iib_steps.arglists import spread_list_options
from iib_steps.cli import spread_lists

STEP = str(Path(sys.executable).with_name("iib-step"))


def test_values_after_a_list_option_become_repeated_options() -> None:
    args = ["--bundles", "a:1", "b:2", "--from-index=x", "--build-tags", "t1", "--organization", "o"]
    assert spread_list_options(args, {"--bundles", "--build-tags"}) == [
        "--bundles=a:1",
        "--bundles=b:2",
        "--from-index=x",
        "--build-tags=t1",
        "--organization",
        "o",
    ]


def test_an_empty_array_drops_the_option_and_explicit_values_stay() -> None:
    args = ["--bundles", "--add-arches", "--bundles=c", "--from-index", "x"]
    assert spread_list_options(args, {"--bundles", "--add-arches"}) == ["--bundles=c", "--from-index", "x"]


def test_only_the_step_commands_list_options_are_spread() -> None:
    assert spread_lists(["rm", "--operators", "a", "b"]) == ["rm", "--operators=a", "--operators=b"]
    # --from-index is not a list option: its second value stays a stray argument for click to refuse.
    assert spread_lists(["rm", "--from-index", "a", "b"]) == ["rm", "--from-index", "a", "b"]
    # Groups (catalog) and unknown commands are left alone.
    assert spread_lists(["catalog", "render", "a", "b"]) == ["catalog", "render", "a", "b"]
    assert spread_lists(["nosuch", "--operators", "a", "b"]) == ["nosuch", "--operators", "a", "b"]


def test_a_usage_error_is_one_line_without_a_traceback() -> None:
    done = subprocess.run([STEP, "rm", "--from-index"], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "requires an argument" in done.stderr
