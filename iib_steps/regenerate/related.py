"""recursive-related-bundles: breadth-first through the bundles a bundle's CSV points at (iib.md §4.8)."""

from __future__ import annotations

from collections.abc import Callable

from iib_steps.errors import StepError

DOS_MESSAGE = "Max number of related bundles exceeded. Potential DOS attack!"


def recursive_related_bundles(
    parent_resolved: str, children_of: Callable[[str], list[str]], max_related: int = 15
) -> list[str]:
    """Every bundle reachable from ``parent_resolved``, leaves first (IIB's reversed level order).

    ``children_of(bundle)`` gives the related bundle images of one bundle (after the organization's
    customizations up to ``related_bundles``). IIB's limit counts every child found; unlike IIB a
    bundle seen before is not walked again, so a cycle ends instead of counting up to the limit.
    """
    found = [parent_resolved]
    seen = {parent_resolved}
    level = [parent_resolved]
    total = 0
    while level:
        next_level: list[str] = []
        for bundle in level:
            children = [c for c in children_of(bundle) if c not in seen]
            total += len(children)
            if total >= max_related:
                raise StepError(DOS_MESSAGE)
            for child in children:
                seen.add(child)
                next_level.append(child)
        found.extend(next_level)
        level = next_level
    return found[::-1]
