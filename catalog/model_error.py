"""opm's tree-shaped validation error (``alpha/model/error.go``) and its exact text.

A node has a message and children; children are other nodes or leaf messages. Rendered::

    invalid index:
    └── invalid package "foo":
        ├── default channel must be set
        └── invalid channel "bar":
            └── channel must contain at least one bundle

opm walks Go maps, so its sibling order is random; ours is the order children were added, and the
model adds packages, channels and bundles sorted by name.
"""

from __future__ import annotations

from catalog.errors import CatalogError

_BRANCH, _LAST = "├── ", "└── "
_PIPE, _BLANK = "│   ", "    "


class ValidationError(CatalogError):
    """A message with sub-errors; ``str()`` draws the tree exactly as opm does."""

    def __init__(self, message: str, sub_errors: list[ValidationError | str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.sub_errors: list[ValidationError | str] = list(sub_errors or [])

    def add(self, error: ValidationError | str | None) -> None:
        """Append a child (a leaf message or a subtree); ``None`` is ignored."""
        if error is not None:
            self.sub_errors.append(error)

    def or_none(self) -> ValidationError | None:
        """This error if it has any child, else None (opm's ``orNil``)."""
        return self if self.sub_errors else None

    def __str__(self) -> str:
        lines: list[str] = []
        self._render("", True, set(), lines)
        return "".join(lines).strip()

    def _render(self, prefix: str, last: bool, seen: set[int], out: list[str]) -> None:
        if id(self) in seen:
            return  # a node that contains itself is drawn once
        seen = seen | {id(self)}
        out.append(f"{prefix}{self.message}{':' if self.sub_errors else ''}\n")
        for i, sub in enumerate(self.sub_errors):
            sub_prefix = prefix
            if len(sub_prefix) >= 4:
                sub_prefix = sub_prefix[:-4] + (_BLANK if last else _PIPE)
            sub_last = i == len(self.sub_errors) - 1
            sub_prefix += _LAST if sub_last else _BRANCH
            if isinstance(sub, ValidationError):
                sub._render(sub_prefix, sub_last, seen, out)
            else:
                out.append(f"{sub_prefix}{sub}\n")

    def __repr__(self) -> str:
        return f"ValidationError({self.message!r}, {self.sub_errors!r})"
