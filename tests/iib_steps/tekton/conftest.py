"""The repository's Tekton files, loaded once for the checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from iib_steps.tekton.loader import Resource, load_files, resource_files, sample_files
from tests.conftest import ROOT, SHARED, need_shared

SCHEMAS = SHARED / "tekton-schemas"
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
