"""Let a list option take every value up to the next option: ``--bundles a b c`` = ``--bundles a
--bundles b --bundles c``.

A Tekton array param reaches a step as separate ``args`` elements (``- --bundles`` followed by
``- $(params.bundles[*])``, which expands to zero or more elements), while click gives a repeatable
option one value per occurrence. :func:`spread_list_options` rewrites the first form into the second
before click parses the command line; a list option followed by no value at all (an empty array)
is dropped. Only options declared ``multiple`` on the chosen step command are affected, and a value
never starts with ``-`` (pull specs, package names and tags do not).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

# Typer ships its own copy of click, so commands and options are recognised by their attributes.


def list_options(command: Any) -> set[str]:
    """The option names of the click ``command`` that may be repeated."""
    names: set[str] = set()
    for param in command.params:
        if getattr(param, "multiple", False) and getattr(param, "param_type_name", "") == "option":
            names.update(n for n in param.opts if n.startswith("--"))
    return names


def spread_list_options(args: Sequence[str], options: Iterable[str]) -> list[str]:
    """``args`` with each ``OPT v1 v2 ...`` of a list option rewritten as ``OPT=v1 OPT=v2 ...``."""
    names = set(options)
    out: list[str] = []
    current: str | None = None
    for arg in args:
        if arg == "--":
            current = None
            out.append(arg)
        elif current is not None and not arg.startswith("-"):
            out.append(f"{current}={arg}")
        elif arg in names:
            current = arg
        else:
            current = None
            out.append(arg)
    return out
