"""Fixtures of the Tekton tests: the repository's Tekton files (loaded once for the checks), a runs
folder, builders of small Pipelines and Tasks for the runner, and the Tekton CRD schemas (from
../shared) to check every file and every object a run produces."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from iib_steps.tekton.loader import Resource, load_files, resource_files, sample_files
from tests.conftest import ROOT, SHARED, need_shared

# ../shared/tekton-schemas, or where IIB_TEKTON_SCHEMAS says (a worktree outside the usual layout).
SCHEMAS = Path(os.environ.get("IIB_TEKTON_SCHEMAS") or SHARED / "tekton-schemas")
PY = sys.executable
REQUEST_TYPES = (
    "add", "rm", "fbc-operations", "create-empty-index", "merge-index-image", "add-deprecations",
    "regenerate-bundle", "regenerate-bundle-batch", "recursive-related-bundles",
)  # fmt: skip


def resources() -> list[Resource]:
    return load_files(resource_files(ROOT))


def samples() -> list[Resource]:
    return load_files(sample_files(ROOT))


@pytest.fixture(scope="session")
def schemas() -> Path:
    """../shared/tekton-schemas (skips where absent)."""
    return need_shared(SCHEMAS)


@pytest.fixture(scope="session")
def tasks() -> dict[str, Resource]:
    return {r.name: r for r in resources() if r.kind == "Task"}


@pytest.fixture(scope="session")
def pipelines() -> dict[str, Resource]:
    return {r.name: r for r in resources() if r.kind == "Pipeline"}


def py_step(name: str, code: str, *args: str, **extra: Any) -> dict[str, Any]:
    """A step running ``python -c code args...`` (no shell anywhere)."""
    return {"name": name, "image": "python", "command": [PY, "-c", code], "args": list(args), **extra}


def task_spec(*steps: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"steps": list(steps), **fields}


def pipeline(tasks: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "tekton.dev/v1",
        "kind": "Pipeline",
        "metadata": {"name": "test"},
        "spec": {"tasks": tasks, **spec},
    }


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    return tmp_path / "runs"


@pytest.fixture(scope="session")
def validate_object() -> Callable[[dict[str, Any]], None]:
    """Check a run object against its kind's CRD schema (skips without ../shared/tekton-schemas)."""
    need_shared(SCHEMAS)
    from jsonschema import Draft7Validator

    validators = {}
    for kind in ("PipelineRun", "TaskRun", "Pipeline", "Task"):
        schema = json.loads((SCHEMAS / f"{kind}-v1.json").read_text())
        schema["$schema"] = "http://json-schema.org/draft-07/schema#"
        validators[kind] = Draft7Validator(schema)

    def check(obj: dict[str, Any]) -> None:
        errors = sorted(validators[obj["kind"]].iter_errors(obj), key=lambda e: list(e.path))
        assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])

    return check
