"""Fixtures every test package shares: where ../shared is, and skipping cleanly without it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Services started on loopback for the tests that need them.
pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.s3",
    "tests.fixtures.registry",
    "tests.fixtures.amqp_broker",
    "tests.fixtures.greenwave",
    "tests.fixtures.otlp",
    "tests.fixtures.step_image",
]

ROOT = Path(__file__).resolve().parent.parent
# ../shared beside the clone; IIB_SHARED_DIR names it elsewhere (e.g. for a git worktree).
SHARED = Path(os.environ.get("IIB_SHARED_DIR") or ROOT.parent / "shared")
TESTDATA = SHARED / "testdata"


def need_shared(path: Path = SHARED) -> Path:
    """Return ``path`` under ../shared, or skip the test with a reason when it is absent."""
    if not path.exists():
        pytest.skip(f"{path} is absent: clone beside the team's shared/ folder to run this test")
    return path


@pytest.fixture(scope="session")
def testdata() -> Path:
    """../shared/testdata (skips where absent)."""
    return need_shared(TESTDATA)


@pytest.fixture(scope="session")
def shared() -> Path:
    """../shared (skips where absent)."""
    return need_shared(SHARED)
