"""Merge a source index into the next OCP release's index (IIB merge-index-image, spec/iib.md §4.3).

The result is the *source* catalog plus the *target* bundles it lacks (neither the digest nor the
bundle name is in the source), added with the graph update mode; then the bundles the target OCP
release must not carry (``keep_bundle`` says no: IIB's ``com.redhat.openshift.versions`` rules) and
the deprecation list are deprecated, reduced to the highest version per package (a deprecation
truncates everything below it), allowing package removal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from catalog.declcfg import Bundle, DeclarativeConfig
from catalog.errors import CatalogError
from catalog.imageref import pull_spec_digest
from catalog.migrations import bundle_csv
from catalog.ops.add import MODE_REPLACES, BundleToAdd, add_bundles
from catalog.ops.deprecate import deprecate_bundles
from catalog.ops.graph import bundle_version, csv_graph_fields, entry_graph_fields
from catalog.ops.packages import OpResult, package_config


def bundle_to_add_from_catalog(cfg: DeclarativeConfig, bundle: Bundle) -> BundleToAdd:
    """What a bundle's annotations most likely said, read back from the catalog it is in: its
    channels, the package's default channel when the bundle is on it, and its CSV graph fields."""
    part = package_config(cfg, bundle.package)
    channels = sorted(c.name for c in part.channels if any(e.name == bundle.name for e in c.entries or []))
    default = part.packages[0].default_channel if part.packages else ""
    csv = bundle_csv(bundle)
    graph = csv_graph_fields(csv) if csv else entry_graph_fields(bundle.name, part.channels)
    return BundleToAdd(
        bundle=bundle,
        channels=channels,
        default_channel=default if default in channels else "",
        graph=graph,
    )


def merge_catalogs(
    source: DeclarativeConfig,
    target: DeclarativeConfig,
    mode: str = MODE_REPLACES,
    *,
    keep_bundle: Callable[[Bundle], bool] | None = None,
    deprecation_list: Sequence[str] = (),
    to_add: Callable[[Bundle], BundleToAdd] | None = None,
    require_digests: bool = True,
) -> OpResult:
    """Add to ``source`` the bundles of ``target`` it lacks, then deprecate what must go.

    ``to_add`` turns a target bundle into what to add (its real annotations, when the caller has the
    bundle image); by default they are read back from ``target``. ``require_digests`` refuses target
    bundles not pulled by digest, as IIB does.
    """
    source_digests = {pull_spec_digest(b.image) for b in source.bundles} - {""}
    source_names = {b.name for b in source.bundles}
    missing: list[Bundle] = []
    for b in target.bundles:
        digest = pull_spec_digest(b.image)
        if (digest and digest in source_digests) or b.name in source_names:
            continue
        if require_digests and not digest:
            raise CatalogError(f"Bundle {b.image or b.name} in the target index is not referenced by digest")
        missing.append(b)
    missing.sort(key=lambda b: (b.package, bundle_version(b).key))
    convert = to_add or (lambda b: bundle_to_add_from_catalog(target, b))
    notes: list[str] = []
    cfg = source
    changed: set[str] = set()
    if missing:
        added = add_bundles(cfg, [convert(b) for b in missing], mode)
        cfg = added.config
        changed.update(added.changed)
        notes.append(
            f"added {len(missing)} bundle(s) from the target index: {', '.join(b.name for b in missing)}"
        )

    wanted = set(deprecation_list)
    if keep_bundle is not None:
        invalid = [b.image for b in cfg.bundles if b.image and not keep_bundle(b)]
        if invalid:
            notes.append(f"bundles not meant for the target OCP release: {', '.join(sorted(invalid))}")
        wanted.update(invalid)
    removed: set[str] = set()
    latest = _latest_per_package(cfg, wanted)
    if latest:
        dep = deprecate_bundles(cfg, latest, allow_package_removal=True, ignore_missing=True)
        cfg = dep.config
        changed.update(dep.changed)
        removed.update(dep.removed)
        notes.extend(dep.notes)
    return OpResult(config=cfg, changed=sorted(changed - removed), removed=sorted(removed), notes=notes)


def _latest_per_package(cfg: DeclarativeConfig, images: set[str]) -> list[str]:
    """Of the catalog's bundles with these images (or digests), the highest version per package."""
    digests = {pull_spec_digest(i) for i in images} - {""}
    best: dict[str, Bundle] = {}
    for b in cfg.bundles:
        if b.image not in images and not (pull_spec_digest(b.image) and pull_spec_digest(b.image) in digests):
            continue
        cur = best.get(b.package)
        if cur is None or bundle_version(b) > bundle_version(cur):
            best[b.package] = b
    return [best[p].image for p in sorted(best)]
