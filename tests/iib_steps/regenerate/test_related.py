"""recursive-related-bundles' walk: level order reversed, the DOS limit, cycles."""

from __future__ import annotations

import pytest

from iib_steps.errors import StepError
from iib_steps.regenerate.related import recursive_related_bundles

TREE = {"p": ["a", "b"], "a": ["a1", "a2"], "b": ["b1"], "a1": [], "a2": [], "b1": []}


def test_leaves_first():
    assert recursive_related_bundles("p", TREE.__getitem__) == ["b1", "a2", "a1", "b", "a", "p"]


def test_a_lone_bundle():
    assert recursive_related_bundles("p", lambda b: []) == ["p"]


@pytest.mark.parametrize(("limit", "ok"), [(6, True), (5, False), (1, False)])
def test_limit_counts_children(limit, ok):
    if ok:
        assert len(recursive_related_bundles("p", TREE.__getitem__, limit)) == 6
    else:
        with pytest.raises(
            StepError, match=r"Max number of related bundles exceeded\. Potential DOS attack!"
        ):
            recursive_related_bundles("p", TREE.__getitem__, limit)


def test_cycle_ends():
    cyclic = {"p": ["a"], "a": ["p", "b"], "b": ["a"]}
    assert recursive_related_bundles("p", cyclic.__getitem__) == ["b", "a", "p"]
