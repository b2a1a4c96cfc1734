"""Go's sort.Slice (pdqsort): sorted output, and Go's placement of equal elements."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from catalog.gosort import go_sort_slice


@given(st.lists(st.integers(min_value=0, max_value=20)))
def test_sorts_any_list(items: list[int]) -> None:
    out = list(items)
    go_sort_slice(out, key=lambda x: x)
    assert out == sorted(items)


def test_is_deterministic_and_keeps_every_element_for_ties() -> None:
    rng = random.Random(7)
    items = [(rng.randrange(5), i) for i in range(300)]
    a, b = list(items), list(items)
    go_sort_slice(a, key=lambda x: x[0])
    go_sort_slice(b, key=lambda x: x[0])
    assert a == b and sorted(a) == sorted(items)
    assert [k for k, _ in a] == sorted(k for k, _ in items)


def test_short_slices_use_insertion_sort_so_ties_keep_input_order() -> None:
    items = [(1, "a"), (0, "x"), (1, "b"), (1, "c")]
    go_sort_slice(items, key=lambda x: x[0])
    assert items == [(0, "x"), (1, "a"), (1, "b"), (1, "c")]
