"""yamllint and @ibm/tekton-lint over tasks/ and pipelines/ (both installed by `make test`)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

TEKTON_LINT = ROOT / ".build" / "npm" / "node_modules" / ".bin" / "tekton-lint"
# Konflux's update-fbc-catalog params we accept for compatibility and do not use.
COMPAT_PARAMS = {"iibServiceAccountSecret", "publishingCredentials", "mustPublishIndexImage",
                 "buildTimeoutSeconds", "taskGitUrl", "taskGitRevision"}  # fmt: skip


def need(tool: Path | str | None, why: str) -> str:
    if tool is None or not Path(tool).exists():
        pytest.skip(f"{why} is not installed: run `make test` (it installs it)")
    return str(tool)


def test_yamllint_is_clean() -> None:
    yamllint = need(shutil.which("yamllint"), "yamllint (Debian package)")
    done = subprocess.run(
        [yamllint, "-s", "-c", str(ROOT / ".yamllint"), "tasks", "pipelines"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def tekton_lint(*patterns: str, cwd: Path = ROOT) -> tuple[int, list[dict]]:
    tool = need(TEKTON_LINT, "@ibm/tekton-lint")
    done = subprocess.run(
        [tool, "--format", "json", "--config", str(ROOT), *patterns],
        cwd=cwd, capture_output=True, text=True, check=False,
    )  # fmt: skip
    start = done.stdout.find("[")
    return done.returncode, json.loads(done.stdout[start:]) if start >= 0 else []


def test_tekton_lint_is_clean() -> None:
    rc, problems = tekton_lint("tasks/**/*.yaml", "pipelines/**/*.yaml")
    unexpected = [
        p for p in problems
        if not (p["rule"] == "no-unused-param" and p["path"].startswith("pipelines/update-fbc-catalog/")
                and any(f"'{name}'" in p["message"] for name in COMPAT_PARAMS))
    ]  # fmt: skip
    assert rc == 0 and unexpected == [], unexpected


def test_tekton_lint_still_finds_mistakes(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(
        (ROOT / "tasks/iib-rm/0.1/iib-rm.yaml")
        .read_text()
        .replace("$(params.from-index)", "$(params.from-idx)")
    )
    rc, problems = tekton_lint(str(tmp_path / "t.yaml"), cwd=tmp_path)
    assert rc == 1
    assert any(p["rule"] == "no-undefined-param" and "from-idx" in p["message"] for p in problems)
