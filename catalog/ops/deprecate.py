"""IIB's deprecation list: ``opm registry deprecatetruncate`` on a File-Based Catalog (fbc-opm.md §4.4).

Deprecating bundle D of a package:

* everything D replaces or skips, directly or through other bundles (its *tail*), leaves the
  channels D is in; a tail bundle that is on no other channel leaves the catalog, and edges of the
  remaining entries of those channels that pointed at a removed tail bundle are dropped;
* D itself leaves the catalog (opm marked it ``olm.deprecated`` and migrate drops such bundles); the
  entries that replace or skip D keep pointing at it, which is how a truncated channel ends;
* a channel D heads disappears;
* D may not be, nor have in its tail, the head of the package's default channel ("Bundle
  deprecation causing default channel removal"), unless ``allow_package_removal`` is set and the
  request deprecates the heads of *all* the package's channels: then the package is removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from catalog.declcfg import Bundle, Channel, DeclarativeConfig
from catalog.errors import CatalogError
from catalog.ops.graph import aggregate, channel_head
from catalog.ops.packages import OpResult, commit, drop_stale_deprecations, package_config

REMOVING_DEFAULT_CHANNEL = "Bundle deprecation causing default channel removal"


def _matches(bundle: Bundle, image: str) -> bool:
    if not bundle.image:
        return False
    if bundle.image == image:
        return True
    return "@" in image and "@" in bundle.image and bundle.image.split("@", 1)[1] == image.split("@", 1)[1]


def deprecate_bundles(
    cfg: DeclarativeConfig,
    images: Sequence[str],
    *,
    allow_package_removal: bool = False,
    ignore_missing: bool = False,
) -> OpResult:
    """Deprecate (truncate below) the bundles with these images; return the new catalog.

    Images are matched exactly or by digest. Images not in the catalog are an error unless
    ``ignore_missing`` (IIB only passes bundles it found in the index).
    """
    requested = list(dict.fromkeys(i for i in images if i))
    found: dict[str, Bundle] = {}
    missing: list[str] = []
    for image in requested:
        match = next((b for b in cfg.bundles if _matches(b, image)), None)
        if match is None:
            missing.append(image)
        else:
            found[image] = match
    if missing and not ignore_missing:
        raise CatalogError(f"target bundlepaths for deprecation missing from registry: [{' '.join(missing)}]")

    parts: dict[str, DeclarativeConfig | None] = {}
    notes = [f"bundle {m} is not in the index: not deprecated" for m in missing]
    remaining = dict(found)
    if allow_package_removal:
        for pkg in _packages_to_remove(cfg, found):
            parts[pkg] = None
            notes.append(f"package {pkg} removed: the heads of all its channels were deprecated")
        remaining = {i: b for i, b in found.items() if b.package not in parts}

    errors: list[str] = []
    for image, bundle in remaining.items():
        pkg = bundle.package
        part = parts.get(pkg) or package_config(cfg, pkg)
        try:
            parts[pkg], dropped = drop_stale_deprecations(_truncate(part, bundle))
            notes.extend(dropped)
        except CatalogError as exc:
            errors.append(f"error deprecating bundle {image}: {exc}")
    if errors:
        raise CatalogError(aggregate(errors))
    return commit(cfg, parts, notes=notes)


def _default_head(part: DeclarativeConfig) -> str:
    if not part.packages:
        return ""
    channel = next((c for c in part.channels if c.name == part.packages[0].default_channel), None)
    if channel is None:
        return ""
    try:
        return channel_head(channel)
    except CatalogError:
        return ""


def _packages_to_remove(cfg: DeclarativeConfig, found: dict[str, Bundle]) -> list[str]:
    """Packages whose default-channel head is deprecated, provided every channel head is."""
    names = {b.name for b in found.values()}
    out: list[str] = []
    for pkg in dict.fromkeys(b.package for b in found.values()):
        part = package_config(cfg, pkg)
        if _default_head(part) not in names:
            continue
        images = {b.name: b.image for b in part.bundles}
        for ch in sorted(part.channels, key=lambda c: c.name):
            head = channel_head(ch)
            if head not in names:
                must = images.get(head, head)
                raise CatalogError(
                    "cannot deprecate default channel head from package without removing all other channel "
                    f"heads in package {pkg}: must deprecate {must}, head of channel {ch.name}"
                )
        out.append(pkg)
    return out


def _truncate(part: DeclarativeConfig, target: Bundle) -> DeclarativeConfig:
    name = target.name
    edges: dict[str, set[str]] = {}
    channels_of: dict[str, set[str]] = {}
    for ch in part.channels:
        for e in ch.entries or []:
            edges.setdefault(e.name, set()).update(t for t in [e.replaces, *e.skips] if t)
            channels_of.setdefault(e.name, set()).add(ch.name)

    tail: list[str] = []
    seen = {name}
    queue = [name]
    while queue:
        cur = queue.pop(0)
        for t in sorted(edges.get(cur, ())):
            if t not in seen:
                seen.add(t)
                tail.append(t)
                queue.append(t)
    default_head = _default_head(part)
    if default_head and default_head in seen:
        raise CatalogError(REMOVING_DEFAULT_CHANNEL)

    target_channels = channels_of.get(name, set())
    removed_tail = set(tail)
    channels: list[Channel] = []
    for ch in part.channels:
        entries = ch.entries or []
        if ch.name in target_channels:
            try:
                if channel_head(ch) == name:
                    continue  # a channel the deprecated bundle heads is gone
            except CatalogError:
                pass
            kept = []
            for e in entries:
                if e.name in removed_tail or e.name == name:
                    continue
                kept.append(
                    replace(
                        e,
                        replaces="" if e.replaces in removed_tail else e.replaces,
                        skips=[s for s in e.skips if s not in removed_tail],
                    )
                )
            entries = kept
        else:
            entries = [e for e in entries if e.name != name]
        channels.append(replace(ch, entries=entries))
    on_channel = {e.name for c in channels for e in c.entries or []}
    bundles = [b for b in part.bundles if b.name in on_channel and b.name != name]
    return replace(part, channels=channels, bundles=bundles)
