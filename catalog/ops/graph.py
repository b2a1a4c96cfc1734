"""Upgrade-graph helpers the operations share: versions, CSV graph fields, channel heads and chains."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from catalog import semver
from catalog.declcfg import (
    PROP_PACKAGE,
    Bundle,
    Channel,
)
from catalog.errors import CatalogError


def bundle_version_text(bundle: Bundle) -> str:
    """The ``version`` of the bundle's ``olm.package`` property ("" when it has none)."""
    for p in bundle.properties:
        if p.type == PROP_PACKAGE and isinstance(p.value, dict):
            return str(p.value.get("version") or "")
    return ""


def bundle_version(bundle: Bundle) -> semver.Version:
    """The bundle's version, parsed; a CatalogError names the bundle when it is not semver."""
    text = bundle_version_text(bundle)
    try:
        return semver.parse(text)
    except CatalogError as exc:
        raise CatalogError(f"error parsing bundle {bundle.name!r} version {text!r}: {exc}") from None


def build_id_compare(a: semver.Version, b: semver.Version) -> int:
    """opm's legacy ordering: semver, then build metadata compared as if it were a prerelease.

    A version with build metadata sorts after the same version without (``1.0.0 < 1.0.0+1``).
    """
    c = a.compare(b)
    if c != 0:
        return c
    return _build_as_prerelease(a).compare(_build_as_prerelease(b))


def _build_as_prerelease(v: semver.Version) -> semver.Version:
    if not v.build:
        return semver.Version(0, 0, 0)
    try:
        pre = tuple(semver.PRVersion.parse(b) for b in v.build)
    except CatalogError as exc:
        raise CatalogError(
            f"failed to convert build-id of {v} to prerelease version for comparison: {exc}"
        ) from None
    return semver.Version(1, 0, 0, pre)


@dataclass(slots=True)
class GraphFields:
    """What a bundle says about its own place in the graph (CSV ``replaces``, ``skips``, skipRange)."""

    replaces: str = ""
    skips: list[str] = field(default_factory=list)
    skip_range: str = ""


def csv_graph_fields(csv: dict[str, Any]) -> GraphFields:
    """Read ``spec.replaces``, ``spec.skips`` and the ``olm.skipRange`` annotation of a CSV."""
    spec = csv.get("spec") or {}
    annotations = (csv.get("metadata") or {}).get("annotations") or {}
    skips = [str(s) for s in spec.get("skips") or [] if s]
    return GraphFields(
        replaces=str(spec.get("replaces") or ""),
        skips=skips,
        skip_range=str(annotations.get("olm.skipRange") or ""),
    )


def entry_graph_fields(bundle_name: str, channels: Iterable[Channel]) -> GraphFields:
    """Graph fields recovered from a bundle's channel entries (when its CSV is no longer stored)."""
    fields = GraphFields()
    for ch in channels:
        for e in ch.entries or []:
            if e.name != bundle_name:
                continue
            fields.replaces = fields.replaces or e.replaces
            for s in e.skips:
                if s not in fields.skips:
                    fields.skips.append(s)
            fields.skip_range = fields.skip_range or e.skip_range
    return fields


def channel_head(channel: Channel) -> str:
    """The one entry nothing replaces or skips; a CatalogError (opm's text) when there is not one."""
    entries = channel.entries or []
    targets: set[str] = set()
    for e in entries:
        if e.replaces:
            targets.add(e.replaces)
        targets.update(e.skips)
    heads = sorted({e.name for e in entries} - targets)
    if not heads:
        raise CatalogError("no channel head found in graph")
    if len(heads) > 1:
        raise CatalogError(f"multiple channel heads found in graph: {', '.join(heads)}")
    return heads[0]


def channel_heads(channels: Iterable[Channel]) -> set[str]:
    """The heads of the given channels (channels without a single head are left out)."""
    heads: set[str] = set()
    for ch in channels:
        try:
            heads.add(channel_head(ch))
        except CatalogError:
            continue
    return heads


def aggregate(errors: list[str]) -> str:
    """Several errors as one line, the way opm's aggregate error prints them."""
    if len(errors) == 1:
        return errors[0]
    return "[" + ", ".join(errors) + "]"
