"""Add bundles to a catalog with IIB's graph update modes, as opm's legacy SQLite add did.

The result is the catalog ``opm registry add --mode M`` followed by ``opm migrate`` gave
(fbc-opm.md §3.3), computed directly on File-Based Catalog channels:

``replaces``
    Per channel the head is the highest version among the bundles in it (the existing entries and
    the new bundles' ``channels`` annotation); the channel is rewritten by walking each bundle's CSV
    ``replaces`` from the head, its CSV ``skips`` becoming skips. Bundles left off every channel drop
    out; a new bundle left off a channel it asked for is an error ("add prunes bundle ...").
``semver`` / ``semver-skippatch``
    The graph is generated: in each of its channels the new bundle replaces the greatest lower
    version and the lowest higher version is re-pointed to replace it (else the new bundle is the
    head). ``semver-skippatch`` also makes it skip the lower patch releases of its major.minor.
    Bundles that head no channel lose their ``olm.bundle.object`` manifests, as opm cleared them.

Where opm failed a valid request through a defect ("Invalid graph: some (non-bottom) nodes ..."),
the new bundle is placed relative to the channel's replaces chain (bundles that are only skipped
keep their place) and, in skippatch mode, replaces the greatest lower version outside the patch
releases it skips, so the result is always a valid graph; where opm succeeded the result is opm's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from catalog import semver
from catalog.declcfg import (
    PROP_BUNDLE_OBJECT,
    Bundle,
    Channel,
    ChannelEntry,
    DeclarativeConfig,
    Package,
    Property,
    RelatedImage,
    RetainedBundle,
)
from catalog.errors import CatalogError
from catalog.imageref import pull_spec_digest
from catalog.migrations import bundle_csv
from catalog.ops.graph import (
    GraphFields,
    aggregate,
    build_id_compare,
    bundle_version,
    channel_heads,
    csv_graph_fields,
    entry_graph_fields,
)
from catalog.ops.ocp import MAX_OPENSHIFT_VERSION, needs_max_openshift_version
from catalog.ops.packages import OpResult, commit, drop_stale_deprecations, package_config
from catalog.ops.semver_mode import add_semver
from catalog.sqlite.read import csv_icon

MODE_REPLACES = "replaces"
MODE_SEMVER = "semver"
MODE_SEMVER_SKIPPATCH = "semver-skippatch"
GRAPH_MODES = (MODE_REPLACES, MODE_SEMVER, MODE_SEMVER_SKIPPATCH)

NOT_AT_HEAD = "Cannot overwrite a bundle that is not at the head of a channel using --overwrite-latest"
PRUNE_HINT = (
    "Upgrade graphs follows the Semantic Versioning 2.0.0 (https://semver.org/) which means that is not "
    "possible add new versions lower then the head of the channel"
)


@dataclass(slots=True)
class BundleToAdd:
    """A rendered bundle and what its ``metadata/annotations.yaml`` says about channels."""

    bundle: Bundle
    channels: list[str]
    default_channel: str = ""
    graph: GraphFields | None = None  # CSV replaces/skips/skipRange; read from the bundle when None

    @classmethod
    def from_annotations(
        cls, bundle: Bundle, channels: str | Iterable[str], default_channel: str = ""
    ) -> BundleToAdd:
        """Build one from the comma-separated ``...bundle.channels.v1`` annotation."""
        if isinstance(channels, str):
            names = [c.strip() for c in channels.split(",") if c.strip()]
        else:
            names = [c for c in channels if c]
        return cls(bundle=bundle, channels=names, default_channel=default_channel.strip())

    def graph_fields(self) -> GraphFields:
        if self.graph is not None:
            return self.graph
        csv = bundle_csv(self.bundle)
        return csv_graph_fields(csv) if csv else GraphFields()


@dataclass(slots=True)
class _Node:
    """One bundle of a package as the legacy add saw it."""

    bundle: Bundle
    version: semver.Version
    graph: GraphFields
    channels: list[str] = field(default_factory=list)
    default_channel: str = ""
    new: bool = False


def add_bundles(
    cfg: DeclarativeConfig,
    bundles: Sequence[BundleToAdd],
    mode: str = MODE_REPLACES,
    *,
    overwrite_latest: bool = False,
    skip_present: bool = False,
    max_openshift_version: bool = False,
    validate: bool = True,
) -> OpResult:
    """Add ``bundles`` to ``cfg`` with graph update ``mode``; return the new catalog and what changed.

    ``overwrite_latest`` replaces a present bundle of the same name if it heads its channels (IIB sets
    it for the dev and stage scopes). ``skip_present`` skips bundles whose image (or digest) or name
    is already in the catalog, as IIB does before calling opm; without it such a bundle is refused as
    opm refused it. ``max_openshift_version`` gives bundles that ship APIs removed in Kubernetes 1.22
    the property ``olm.maxOpenShiftVersion: 4.8``, as IIB does.
    """
    if mode not in GRAPH_MODES:
        raise CatalogError(f"Invalid channel update mode {mode} specified")
    notes: list[str] = []
    todo = list(bundles)
    if skip_present:
        todo, skipped = _drop_present(cfg, todo, overwrite_latest)
        notes.extend(f"bundle {b} is already in the index: skipped" for b in skipped)
    by_package: dict[str, list[BundleToAdd]] = {}
    for item in todo:
        b = item.bundle
        if not b.package:
            raise CatalogError(f"bundle {b.name!r} has no package")
        if not item.channels:
            raise CatalogError(f"bundle {b.name!r} ({b.image}) names no channel")
        by_package.setdefault(b.package, []).append(item)
    _check_edges_stay_in_package(cfg, todo)

    parts: dict[str, DeclarativeConfig | None] = {}
    for pkg, items in by_package.items():
        part = package_config(cfg, pkg)
        prepared = [_prepare(i, max_openshift_version) for i in items]
        _sanity_check(part, prepared, overwrite_latest)
        if overwrite_latest:
            part = _remove_overwritten(part, prepared)
        if mode == MODE_REPLACES:
            part = _add_replaces(part, pkg, prepared)
        else:
            for item in prepared:
                part = add_semver(
                    part,
                    pkg,
                    item.bundle,
                    item.channels,
                    item.default_channel,
                    item.graph_fields().skip_range,
                    skippatch=mode == MODE_SEMVER_SKIPPATCH,
                )
            part = clear_non_head_objects(part)
        part, dropped = drop_stale_deprecations(_refresh_package_blob(part, pkg))
        notes.extend(dropped)
        parts[pkg] = part
    return commit(cfg, parts, validate=validate, notes=notes)


# -- preparing the new bundles ---------------------------------------------------------------------


def _prepare(item: BundleToAdd, max_openshift_version: bool) -> BundleToAdd:
    """A copy of the bundle with the bundle image listed first among its related images."""
    b = item.bundle
    bundle_version(b)  # refuse a bundle without a valid version before anything else
    related = list(b.related_images)
    if b.image:
        related = [RelatedImage("", b.image)] + [
            r for r in related if not (r.image == b.image and not r.name)
        ]
    props = list(b.properties)
    if max_openshift_version and needs_max_openshift_version(b):
        props.append(Property(MAX_OPENSHIFT_VERSION, 4.8))
    new = replace(b, related_images=related, properties=props)
    return BundleToAdd(
        bundle=new,
        channels=list(item.channels),
        default_channel=item.default_channel,
        graph=item.graph_fields(),
    )


def _drop_present(
    cfg: DeclarativeConfig, items: list[BundleToAdd], overwrite_latest: bool
) -> tuple[list[BundleToAdd], list[str]]:
    images = {b.image for b in cfg.bundles if b.image}
    digests = {pull_spec_digest(i) for i in images} - {""}
    names = {(b.package, b.name) for b in cfg.bundles}
    keep: list[BundleToAdd] = []
    skipped: list[str] = []
    for item in items:
        b = item.bundle
        present = b.image in images or (pull_spec_digest(b.image) and pull_spec_digest(b.image) in digests)
        if not present and not overwrite_latest:
            present = (b.package, b.name) in names
        if present:
            skipped.append(b.image or b.name)
        else:
            keep.append(item)
    return keep, skipped


def _check_edges_stay_in_package(cfg: DeclarativeConfig, items: list[BundleToAdd]) -> None:
    """A bundle named by a new bundle's replaces/skips must not belong to another package."""
    expected: dict[str, str] = {}
    for item in items:
        g = item.graph_fields()
        for name in [*g.skips, g.replaces, item.bundle.name]:
            if not name:
                continue
            other = expected.get(name)
            if other is not None and other != item.bundle.package:
                pkgs = sorted([other, item.bundle.package])
                raise CatalogError(
                    f"bundle {name} must belong to exactly one package, found on: [{' '.join(pkgs)}]"
                )
            expected[name] = item.bundle.package
    for ch in cfg.channels:
        for e in ch.entries or []:
            want = expected.get(e.name)
            if want is not None and want != ch.package:
                raise CatalogError(
                    f"bundle {e.name} belongs to package {ch.package} on index, "
                    f"cannot be added as an edge for package {want}"
                )


def _in_channels(part: DeclarativeConfig) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for ch in sorted(part.channels, key=lambda c: c.name):
        for e in ch.entries or []:
            names = out.setdefault(e.name, [])
            if ch.name not in names:
                names.append(ch.name)
    return out


def _sanity_check(part: DeclarativeConfig, items: list[BundleToAdd], overwrite: bool) -> None:
    """opm's checks before adding: the image is new, and so is the name unless overwriting it."""
    errors: list[str] = []
    images = {b.image for b in part.bundles if b.image}
    in_channels = _in_channels(part)
    overwritten: list[str] = []
    for item in items:
        b = item.bundle
        if b.image and b.image in images:
            errors.append(f"Bundle {b.image} already exists")
        if b.name in in_channels and any(x.name == b.name for x in part.bundles):
            if not overwrite:
                errors.append("Bundle already added that provides package and csv")
                continue
            for ch in part.channels:
                for e in ch.entries or []:
                    if e.replaces == b.name or b.name in e.skips:
                        errors.append(NOT_AT_HEAD)
                        break
                else:
                    continue
                break
            overwritten.append(b.name)
    if len(overwritten) > 1:
        errors.append(
            "Cannot overwrite more than one bundle at a time for a given package using --overwrite-latest"
        )
    if errors:
        raise CatalogError(aggregate(errors))


def _remove_overwritten(part: DeclarativeConfig, items: list[BundleToAdd]) -> DeclarativeConfig:
    names = {i.bundle.name for i in items} & {b.name for b in part.bundles}
    if not names:
        return part
    channels = []
    for ch in part.channels:
        entries = [e for e in ch.entries or [] if e.name not in names]
        channels.append(replace(ch, entries=entries))
    return replace(part, channels=channels, bundles=[b for b in part.bundles if b.name not in names])


# -- replaces mode -----------------------------------------------------------------------------------


def _existing_nodes(part: DeclarativeConfig) -> list[_Node]:
    """The package's bundles that are on some channel, with the channels they are on."""
    in_channels = _in_channels(part)
    default = part.packages[0].default_channel if part.packages else ""
    nodes: list[_Node] = []
    for b in part.bundles:
        chans = in_channels.get(b.name)
        if not chans:
            continue
        csv = bundle_csv(b)
        graph = csv_graph_fields(csv) if csv else entry_graph_fields(b.name, part.channels)
        nodes.append(
            _Node(bundle=b, version=bundle_version(b), graph=graph, channels=chans, default_channel=default)
        )
    nodes.sort(key=lambda n: n.version.key)
    return nodes


def _new_node(item: BundleToAdd) -> _Node:
    return _Node(
        bundle=item.bundle,
        version=bundle_version(item.bundle),
        graph=item.graph_fields(),
        channels=list(item.channels),
        default_channel=item.default_channel,
        new=True,
    )


def _semver_manifest(nodes: list[_Node]) -> tuple[dict[str, _Node], str]:
    """Per channel the highest-version bundle, and the default channel (opm's SemverPackageManifest)."""
    heads: dict[str, tuple[_Node, int]] = {}
    max_node: _Node | None = None
    max_count = 0
    default = ""
    for node in nodes:
        for ch in node.channels:
            cur = heads.get(ch)
            if cur is None:
                heads[ch] = (node, 1)
                continue
            c = build_id_compare(node.version, cur[0].version)
            if c < 0:
                continue
            heads[ch] = (node, cur[1] + 1 if c == 0 else 1)
        if max_node is not None:
            c = build_id_compare(node.version, max_node.version)
            if c < 0:
                continue
            max_count = max_count + 1 if c == 0 else 1
        else:
            max_count = 1
        max_node = node
        if node.default_channel:
            default = node.default_channel
    if max_node is not None and max_count > 1:
        raise CatalogError(f"more than one bundle with maximum version {max_node.version}")
    for ch, (_, count) in sorted(heads.items()):
        if count > 1:
            raise CatalogError(f"more than one potential channel head for {ch}")
    # A lone channel is the default only when the bundles name none; a named default must be a head.
    if not ((len(heads) == 1 and not default) or default in heads):
        listed = " ".join(f"{ch}:{_go_head_text(n, count)}" for ch, (n, count) in sorted(heads.items()))
        raise CatalogError(f"unable to determine default channel among channel heads: map[{listed}]")
    if len(heads) == 1:
        default = next(iter(heads))
    return {ch: n for ch, (n, _) in heads.items()}, default


def _go_head_text(node: _Node, count: int) -> str:
    """Go's ``%+v`` of opm's unexported ``bundleVersion{name, version, count}`` (no String() inside)."""
    v = node.version
    pre = " ".join(
        f"{{VersionStr:{'' if p.is_num else p.text} VersionNum:{p.num} IsNum:{str(p.is_num).lower()}}}"
        for p in v.pre
    )
    version = f"{{Major:{v.major} Minor:{v.minor} Patch:{v.patch} Pre:[{pre}] Build:[{' '.join(v.build)}]}}"
    return f"{{name:{node.bundle.name} version:{version} count:{count}}}"


def _truncation_points(part: DeclarativeConfig) -> set[str]:
    """Names the catalog's chains already end on although no such bundle is present (truncated tails)."""
    present = {b.name for b in part.bundles}
    return {
        e.replaces
        for ch in part.channels
        for e in ch.entries or []
        if e.replaces and e.replaces not in present
    }


def _retained_nodes(part: DeclarativeConfig, known: set[str]) -> list[_Node]:
    """The bundles opm's index still holds off every channel: reachable by replaces and skips only."""
    return [
        _Node(
            bundle=r.bundle,
            version=bundle_version(r.bundle),
            graph=GraphFields(r.replaces, list(r.skips), r.skip_range),
        )
        for r in part.retained
        if r.bundle.name not in known
    ]


def _add_replaces(part: DeclarativeConfig, pkg: str, items: list[BundleToAdd]) -> DeclarativeConfig:
    existing = _existing_nodes(part)
    nodes = existing + [_new_node(i) for i in items]
    by_name = {n.bundle.name: n for n in nodes}
    heads, default = _semver_manifest(nodes)
    retained = _retained_nodes(part, set(by_name))
    by_name.update((n.bundle.name, n) for n in retained)
    truncated = _truncation_points(part)

    channels: list[Channel] = []
    for ch_name in sorted(heads):
        head = heads[ch_name]
        entries: dict[str, ChannelEntry] = {}

        def entry(name: str, entries: dict[str, ChannelEntry] = entries) -> ChannelEntry:
            e = entries.get(name)
            if e is None:
                node = by_name.get(name)
                e = entries[name] = ChannelEntry(name=name, skip_range=node.graph.skip_range if node else "")
            return e

        cur = head
        seen = {cur.bundle.name}
        while True:
            e = entry(cur.bundle.name)
            for s in cur.graph.skips:
                e.skips.append(s)
                if s in by_name:
                    entry(s)
            r = cur.graph.replaces
            if not r:
                break
            if r in seen:
                raise CatalogError(f"Cycle detected, {cur.bundle.name} replaces {r}")
            seen.add(r)
            e.replaces = r
            nxt = by_name.get(r)
            if nxt is None:
                if r in truncated:
                    break  # the chain was cut here by a deprecation: nothing below it stays
                raise CatalogError(f"Invalid bundle {head.bundle.name}, replaces nonexistent bundle {r}")
            cur = nxt
        channel = Channel(
            name=ch_name, package=pkg, entries=[entries[n] for n in sorted(entries) if n in by_name]
        )
        channels.append(channel)

    # Every new bundle must be on each channel it asked for.
    errors: list[str] = []
    for item in items:
        b = item.bundle
        for ch_name in item.channels:
            channel = next(c for c in channels if c.name == ch_name)
            if any(e.name == b.name for e in channel.entries or []):
                continue
            head_entry = next(e for e in channel.entries or [] if e.name == heads[ch_name].bundle.name)
            edges = sorted({*([head_entry.replaces] if head_entry.replaces else []), *head_entry.skips})
            head_name = heads[ch_name].bundle.name
            errors.append(
                f"add prunes bundle {b.name} ({b.image}) from package {pkg}, channel {ch_name}: this may be "
                f"due to incorrect channel head ({head_name}, skips/replaces [{' '.join(edges)}]). "
                f"Be aware that the head of the channel {ch_name} where you are trying to add the {b.name} "
                f"is {head_name}. {PRUNE_HINT}"
            )
    if errors:
        raise CatalogError(aggregate(errors))

    on_channel = {e.name for c in channels for e in c.entries or []}
    bundles = [n.bundle for n in nodes + retained if n.bundle.name in on_channel]
    # What leaves every channel stays in opm's index, where a later bundle can link it back.
    still_retained = [
        RetainedBundle(n.bundle, n.graph.replaces, list(n.graph.skips), n.graph.skip_range)
        for n in existing + retained
        if n.bundle.name not in on_channel
    ]
    package = part.packages[0] if part.packages else Package(name=pkg)
    return replace(
        part,
        packages=[replace(package, default_channel=default)],
        channels=channels,
        bundles=bundles,
        retained=still_retained,
    )


# -- after the add -------------------------------------------------------------------------------------


def clear_non_head_objects(cfg: DeclarativeConfig) -> DeclarativeConfig:
    """Drop the ``olm.bundle.object`` manifests of bundles (with an image) that head no channel.

    This is what opm's semver modes did to the whole index (``ClearNonHeadBundles``); related images
    then come from the index alone, without the CSV's names.
    """
    heads = channel_heads(cfg.channels)
    bundles: list[Bundle] = []
    for b in cfg.bundles:
        if b.name in heads or not b.image or not any(p.type == PROP_BUNDLE_OBJECT for p in b.properties):
            bundles.append(b)
            continue
        bundles.append(
            replace(
                b,
                properties=[p for p in b.properties if p.type != PROP_BUNDLE_OBJECT],
                related_images=[RelatedImage("", r.image) for r in b.related_images],
            )
        )
    return replace(cfg, bundles=bundles)


def _refresh_package_blob(part: DeclarativeConfig, pkg: str) -> DeclarativeConfig:
    """Give the package its icon from the CSV heading its default channel, when that CSV is there."""
    if not part.packages:
        return part
    package = part.packages[0]
    channel = next((c for c in part.channels if c.name == package.default_channel), None)
    if channel is None:
        return part
    heads = channel_heads([channel])
    head = next((b for b in part.bundles if b.name in heads), None)
    csv = bundle_csv(head) if head else None
    icon = csv_icon(csv)
    if icon is not None:
        package = replace(package, icon=icon)
    return replace(part, packages=[package, *part.packages[1:]])
