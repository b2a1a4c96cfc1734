"""Semantic versions and version ranges with the rules and error texts of blang/semver v4.

opm parses bundle versions with blang's strict ``Parse`` and checks ``skipRange`` with its
``ParseRange``; both are reproduced here, quirks included (for instance a one-character term of a
range is dropped by blang's tokenizer), because opm's messages quote their errors verbatim.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import total_ordering

from catalog.errors import CatalogError
from catalog.goquote import go_quote

_NUMBERS = frozenset("0123456789")
_ALPHANUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789")
_UINT64_MAX = (1 << 64) - 1
# what Go's strings.TrimSpace trims (unicode.IsSpace)
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
)


class SemverError(CatalogError):
    """A version or range that blang/semver would refuse; the text is blang's."""


_ALPHANUM_RE = re.compile(r"[0-9A-Za-z-]*")


def _only(s: str, allowed: frozenset[str]) -> bool:
    """Whether every character of ``s`` is in ``allowed`` (true for ""), as blang's containsOnly."""
    if allowed is _NUMBERS:
        return not s or (s.isascii() and s.isdigit())
    if allowed is _ALPHANUM:
        return _ALPHANUM_RE.fullmatch(s) is not None
    return all(c in allowed for c in s)


def _leading_zero(s: str) -> bool:
    return len(s) > 1 and s[0] == "0"


def _parse_uint(s: str) -> int:
    """Go's ``strconv.ParseUint(s, 10, 64)`` for a string of ASCII digits (maybe empty)."""
    if not s:
        raise SemverError(f"strconv.ParseUint: parsing {go_quote(s)}: invalid syntax")
    n = int(s)
    if n > _UINT64_MAX:
        raise SemverError(f"strconv.ParseUint: parsing {go_quote(s)}: value out of range")
    return n


@total_ordering
@dataclass(frozen=True, slots=True)
class PRVersion:
    """One dot-separated prerelease identifier: numeric or alphanumeric."""

    text: str
    num: int = 0
    is_num: bool = False

    @classmethod
    def parse(cls, s: str) -> PRVersion:
        """blang's ``NewPRVersion``."""
        if not s:
            raise SemverError("Prerelease is empty")
        if _only(s, _NUMBERS):
            if _leading_zero(s):
                raise SemverError(f"Numeric PreRelease version must not contain leading zeroes {go_quote(s)}")
            return cls(s, _parse_uint(s), True)
        if _only(s, _ALPHANUM):
            return cls(s)
        raise SemverError(f"Invalid character(s) found in prerelease {go_quote(s)}")

    @property
    def key(self) -> tuple[int, int, str]:
        """Sort key: numbers before words, numbers by value, words bytewise."""
        return (0, self.num, "") if self.is_num else (1, 0, self.text)

    def compare(self, other: PRVersion) -> int:
        a, b = self.key, other.key
        return (a > b) - (a < b)

    def __lt__(self, other: PRVersion) -> bool:
        return self.key < other.key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PRVersion) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return str(self.num) if self.is_num else self.text


@total_ordering
@dataclass(frozen=True, slots=True)
class Version:
    """A semantic version; ordering ignores build metadata, as semver 2.0 says."""

    major: int = 0
    minor: int = 0
    patch: int = 0
    pre: tuple[PRVersion, ...] = ()
    build: tuple[str, ...] = ()
    key: tuple = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.pre:
            key = (self.major, self.minor, self.patch, 0, tuple(p.key for p in self.pre))
        else:
            key = (self.major, self.minor, self.patch, 1)
        object.__setattr__(self, "key", key)

    def compare(self, other: Version) -> int:
        """-1, 0 or 1 as blang's ``Compare``."""
        a, b = self.key, other.key
        return (a > b) - (a < b)

    def __lt__(self, other: Version) -> bool:
        return self.key < other.key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        s = f"{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            s += "-" + ".".join(str(p) for p in self.pre)
        if self.build:
            s += "+" + ".".join(self.build)
        return s


_NUM = r"(?:0|[1-9][0-9]{0,18})"  # at most 19 digits: always within uint64
_IDENT = r"(?:0|[1-9][0-9]{0,18}|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_VALID = re.compile(
    rf"({_NUM})\.({_NUM})\.({_NUM})(?:-({_IDENT}(?:\.{_IDENT})*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)


@functools.lru_cache(maxsize=1 << 16)
def _parse_valid(s: str) -> Version | None:
    """The version of a string blang surely accepts (versions repeat: parse each once), else None."""
    m = _VALID.fullmatch(s)
    if m is None:
        return None
    major, minor, patch, pre, build = m.groups()
    return Version(
        int(major),
        int(minor),
        int(patch),
        tuple(PRVersion.parse(p) for p in pre.split(".")) if pre else (),
        tuple(build.split(".")) if build else (),
    )


def parse(s: str) -> Version:
    """blang's strict ``Parse``: ``MAJOR.MINOR.PATCH[-pre][+build]``, no ``v``, no leading zeros."""
    v = _parse_valid(s)
    if v is not None:
        return v
    return _parse_slow(s)


def _parse_slow(s: str) -> Version:
    """blang's ``Parse`` step by step, for its exact error texts."""
    if not s:
        raise SemverError("Version string empty")
    parts = s.split(".", 2)
    if len(parts) != 3:
        raise SemverError("No Major.Minor.Patch elements found")
    major_s, minor_s, patch_s = parts
    if not _only(major_s, _NUMBERS):
        raise SemverError(f"Invalid character(s) found in major number {go_quote(major_s)}")
    if _leading_zero(major_s):
        raise SemverError(f"Major number must not contain leading zeroes {go_quote(major_s)}")
    major = _parse_uint(major_s)
    if not _only(minor_s, _NUMBERS):
        raise SemverError(f"Invalid character(s) found in minor number {go_quote(minor_s)}")
    if _leading_zero(minor_s):
        raise SemverError(f"Minor number must not contain leading zeroes {go_quote(minor_s)}")
    minor = _parse_uint(minor_s)

    build: list[str] = []
    prerelease: list[str] = []
    plus = patch_s.find("+")
    if plus != -1:
        build = patch_s[plus + 1 :].split(".")
        patch_s = patch_s[:plus]
    dash = patch_s.find("-")
    if dash != -1:
        prerelease = patch_s[dash + 1 :].split(".")
        patch_s = patch_s[:dash]
    if not _only(patch_s, _NUMBERS):
        raise SemverError(f"Invalid character(s) found in patch number {go_quote(patch_s)}")
    if _leading_zero(patch_s):
        raise SemverError(f"Patch number must not contain leading zeroes {go_quote(patch_s)}")
    patch = _parse_uint(patch_s)

    pre = tuple(PRVersion.parse(p) for p in prerelease)
    for b in build:
        if not b:
            raise SemverError("Build meta data is empty")
        if not _only(b, _ALPHANUM):
            raise SemverError(f"Invalid character(s) found in build meta data {go_quote(b)}")
    return Version(major, minor, patch, pre, tuple(build))


# ---------------------------------------------------------------------------------------------
# Ranges (blang/semver v4 range.go)

_COMPARATORS: dict[str, Callable[[int], bool]] = {
    "": lambda c: c == 0,
    "=": lambda c: c == 0,
    "==": lambda c: c == 0,
    "!": lambda c: c != 0,
    "!=": lambda c: c != 0,
    ">": lambda c: c == 1,
    ">=": lambda c: c >= 0,
    "<": lambda c: c == -1,
    "<=": lambda c: c <= 0,
}


@dataclass(frozen=True, slots=True)
class Range:
    """A parsed range: OR of ANDs of (operator, version) terms. Call it with a Version."""

    text: str
    alternatives: tuple[tuple[tuple[str, Version], ...], ...]

    def __call__(self, v: Version) -> bool:
        return any(
            all(_COMPARATORS[op](v.compare(bound)) for op, bound in terms) for terms in self.alternatives
        )

    def __contains__(self, v: Version) -> bool:
        return self(v)


def _split_and_trim(s: str) -> list[str]:
    """blang's ``splitAndTrim``: split on spaces not following ``>``, ``<`` or ``=``."""
    result: list[str] = []
    last = 0
    last_char = ""
    for i, c in enumerate(s):
        if c == " " and last_char not in (">", "<", "="):
            if last < i - 1:
                result.append(s[last:i])
            last = i + 1
        elif c != " ":
            last_char = c
    if last < len(s) - 1:
        result.append(s[last:])
    return [r.replace(" ", "") for r in result]


def _split_or_parts(parts: list[str]) -> list[list[str]]:
    out: list[list[str]] = []
    last = 0
    for i, p in enumerate(parts):
        if p == "||":
            if i == 0:
                raise SemverError("First element in range is '||'")
            out.append(parts[last:i])
            last = i + 1
    if last == len(parts):
        raise SemverError("Last element in range is '||'")
    out.append(parts[last:])
    return out


def _is_go_digit(c: str) -> bool:
    if c <= "\xff":
        return "0" <= c <= "9"
    return unicodedata.category(c) == "Nd"


def _split_comparator_version(s: str) -> tuple[str, str]:
    for i, c in enumerate(s):
        if _is_go_digit(c):
            return s[:i].strip(_GO_SPACE), s[i:]
    raise SemverError(f"Could not get version from string: {go_quote(s)}")


def _wildcard_kind(v: str) -> int:
    """3 for ``1.2.x``, 2 for ``1.x``, 1 for ``x`` (as blang counts parts), 0 for no wildcard."""
    parts = v.split(".")
    if parts[-1] == "x" and len(parts) in (1, 2, 3):
        return len(parts)
    return 0


def _flatten_wildcard(v: str) -> str:
    v2 = v.replace(".x.x", ".x", 1).replace(".x", ".0", 1)
    return v2 + ".0" if len(v2.split(".")) == 2 else v2


def _go_atoi(s: str) -> int | None:
    t = s[1:] if s[:1] in ("+", "-") else s
    if not t or not t.isascii() or not t.isdigit():
        return None
    n = int(s)
    return n if -(1 << 63) <= n < (1 << 63) else None


def _increment(v: str, index: int) -> str:
    """blang's ``incrementMajorVersion``/``incrementMinorVersion``; "" where Atoi fails."""
    parts = v.split(".")
    if index >= len(parts):
        return ""  # blang would index out of range; no valid range reaches this
    n = _go_atoi(parts[index])
    if n is None:
        return ""
    parts[index] = str(n + 1)
    return ".".join(parts)


def _expand_wildcards(or_parts: list[list[str]]) -> list[list[str]]:
    expanded: list[list[str]] = []
    for terms in or_parts:
        new_terms: list[str] = []
        for term in terms:
            if "x" in term:
                op, ver = _split_comparator_version(term)
                kind = _wildcard_kind(ver)
                flat = _flatten_wildcard(ver)
                result_op = ""
                bump = False
                if op == ">":
                    result_op, bump = ">=", True
                elif op == ">=":
                    result_op = ">="
                elif op == "<":
                    result_op = "<"
                elif op == "<=":
                    result_op, bump = "<", True
                elif op in ("", "=", "=="):
                    new_terms.append(">=" + flat)
                    result_op, bump = "<", True
                elif op in ("!=", "!"):
                    new_terms.append("<" + flat)
                    result_op, bump = ">=", True
                if bump:
                    if kind == 3:
                        result_ver = _increment(flat, 1)
                    elif kind == 2:
                        result_ver = _increment(flat, 0)
                    else:
                        result_ver = ""
                else:
                    result_ver = flat
                term = result_op + result_ver
            new_terms.append(term)
        expanded.append(new_terms)
    return expanded


@functools.lru_cache(maxsize=1 << 14)
def parse_range(s: str) -> Range:
    """blang's ``ParseRange``: ``>=1.0.0 <2.0.0 || 3.x``; raises SemverError with blang's text.

    Ranges are immutable and repeat across channels, so each text is parsed once.
    """
    or_parts = _split_or_parts(_split_and_trim(s))
    alternatives: list[tuple[tuple[str, Version], ...]] = []
    for terms in _expand_wildcards(or_parts):
        built: list[tuple[str, Version]] = []
        for term in terms:
            op, ver = _split_comparator_version(term)
            if op not in _COMPARATORS:
                raise SemverError(
                    f"Could not parse Range {go_quote(term)}: "
                    f"Could not parse comparator {go_quote(op)} in {go_quote(op + ver)}"
                )
            try:
                bound = parse(ver)
            except SemverError as exc:
                raise SemverError(
                    f"Could not parse Range {go_quote(term)}: "
                    f"Could not parse version {go_quote(ver)} in {go_quote(op + ver)}: {exc}"
                ) from None
            built.append((op, bound))
        alternatives.append(tuple(built))
    return Range(s, tuple(alternatives))
