"""``.indexignore`` files: gitignore-style patterns that keep files out of a catalog load.

A ``.indexignore`` may sit in any directory; its patterns apply to paths below that directory.
As in git, the last matching pattern wins, ``!`` re-includes, a trailing ``/`` matches directories
only, a pattern with a ``/`` before its end is anchored to the file's directory, ``*`` and ``?`` do
not cross ``/`` while ``**`` does. A file inside an ignored directory is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

INDEXIGNORE = ".indexignore"


@dataclass(frozen=True, slots=True)
class _Rule:
    base: tuple[str, ...]  # directory of the .indexignore, as path parts relative to the root
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool


def _translate(pattern: str, anchored: bool) -> re.Pattern[str]:
    out = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                before_ok = i == 0 or pattern[i - 1] == "/"
                after = pattern[i + 2 : i + 3]
                if before_ok and after == "/":
                    out.append("(?:.*/)?")
                    i += 3
                    continue
                if before_ok and i + 2 == n:
                    out.append(".*")
                    i += 2
                    continue
                out.append("[^/]*")
                i += 2
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pattern.find("]", i + 1)
            if j == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : j]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    body = "".join(out)
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"^{prefix}{body}$", re.S)


def parse_rules(text: str, base: tuple[str, ...] = ()) -> list[_Rule]:
    """The rules of one ``.indexignore`` whose directory is ``base`` (parts relative to the root)."""
    rules = []
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if not line.strip() or line.startswith("#"):
            continue
        if not line.endswith("\\ "):
            line = line.rstrip(" ")
        negate = line.startswith("!")
        if negate or line.startswith("\\!") or line.startswith("\\#"):
            line = line[1:]
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        anchored = "/" in line
        line = line.lstrip("/")
        rules.append(_Rule(base, _translate(line, anchored), negate, dir_only))
    return rules


class IgnoreMatcher:
    """Every ``.indexignore`` rule under a catalog root, asked one relative path at a time."""

    def __init__(self) -> None:
        self._rules: list[_Rule] = []

    def add_file(self, path: Path, base: tuple[str, ...]) -> None:
        """Read one ``.indexignore`` whose directory is ``base`` (parts relative to the root)."""
        self._rules.extend(parse_rules(path.read_text(encoding="utf-8", errors="replace"), base))

    def __bool__(self) -> bool:
        return bool(self._rules)

    def match(self, parts: tuple[str, ...]) -> bool:
        """Whether the file at ``parts`` (relative to the root) is ignored."""
        if not self._rules:
            return False
        # The file itself, then each of its parent directories (a file in an ignored dir is ignored).
        for depth in range(1, len(parts) + 1):
            is_dir = depth < len(parts)
            if self._match_one(parts[:depth], is_dir):
                return True
        return False

    def _match_one(self, parts: tuple[str, ...], is_dir: bool) -> bool:
        ignored = False
        for rule in self._rules:
            nb = len(rule.base)
            if len(parts) <= nb or parts[:nb] != rule.base:
                continue
            if rule.dir_only and not is_dir:
                continue
            if rule.regex.match("/".join(parts[nb:])):
                ignored = not rule.negate
        return ignored
