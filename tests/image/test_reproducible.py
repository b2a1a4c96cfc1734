"""``make image`` twice gives the same digest.

The second build reuses the cached Debian base (itself bit-identical for the same mirror contents)
and rebuilds every Containerfile step into a fresh layout.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.step_image import StepImage, build_step_image

# The first test of a session may build the Debian base and the image: minutes on a busy machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def test_a_second_build_has_the_same_digest(step_image: StepImage, tmp_path: Path) -> None:
    again = build_step_image(tmp_path / "iib-step", force=True)
    assert again.digest == step_image.digest
    first = sorted(p.name for p in (step_image.layout / "blobs" / "sha256").iterdir())
    second = sorted(p.name for p in (again.layout / "blobs" / "sha256").iterdir())
    assert first == second
