"""Building images without a daemon: an index image from a binary image plus catalog layers, and a
bundle image from a bundle directory.

An index image per architecture is the binary (opm) image's layers, one small fixed layer hiding any
``/configs`` below it, the catalog layers, and a new config (labels, entrypoint, command, diff_ids).
The binary image's layers are never downloaded: the destination repository already has them, or
the registry mounts them from the binary image's repository. Each catalog layer is compressed once,
and uploaded once per destination repository after a HEAD check, for all architectures. The
per-architecture manifests are pushed by digest, then the manifest list; only then are tags written.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from iib_steps.errors import StepError
from iib_steps.images import manifests as mt
from iib_steps.images.inspect import ArchImage, ExistingLayer, ImageReader, default_client
from iib_steps.images.layers import DEFAULT_LEVEL, LayerBlob, LayerSpec, write_layer
from iib_steps.images.manifests import Descriptor, ImageIndex, ImageManifest, Platform, RawManifest
from iib_steps.images.push import Pusher, Target, pinned, push_manifests, run_all, targets_for
from iib_steps.images.reference import ImageLocation
from iib_steps.images.registry import RegistryClient
from iib_steps.images.stores import Store, open_store

CONFIGS_LABEL = "operators.operatorframework.io.index.configs.v1"
CONFIGS_DIR = "/configs"
CACHE_DIR = "/tmp/cache"
BINARYLESS = "scratch"
EPOCH = "1970-01-01T00:00:00Z"
# A tiny layer, identical in every index image, that hides whatever the binary image may have at
# /configs; readers stop going down at it, so extracting a catalog never downloads the binary layers.
CONFIGS_BASE_LAYER = LayerSpec(entries=(), opaque=(CONFIGS_DIR,))

_PUSH_THREADS = 4


@dataclass(frozen=True)
class PendingLayer:
    """A layer being packed elsewhere (say, in a worker process): ``wait`` gives it or raises StepError."""

    wait: Callable[[], LayerBlob]


CatalogLayer = Path | LayerSpec | LayerBlob | ExistingLayer | PendingLayer


@dataclass(frozen=True)
class BuildResult:
    """What a build pushed."""

    digest: str  # digest of the manifest list / index (of the manifest for a single image)
    media_type: str
    arch_digests: dict[str, str]  # architecture → image manifest digest
    destinations: list[str]  # every destination as given, now tagged
    pull_specs: list[str]  # every destination repository pinned to ``digest``
    layers: list[LayerBlob | ExistingLayer] = field(default_factory=list)  # the layers added, bottom first
    bytes_uploaded: int = 0
    blobs: dict[str, int] = field(default_factory=dict)  # how blobs got there: present/mounted/uploaded...


def _materialize_layers(
    layers: Sequence[CatalogLayer], work_dir: Path, level: int
) -> list[LayerBlob | ExistingLayer]:
    out: list[LayerBlob | ExistingLayer] = []
    for layer in layers:
        if isinstance(layer, Path):
            if not layer.is_dir():
                raise StepError(f"the catalog directory {layer} does not exist")
            out.append(write_layer(LayerSpec.directory(layer, CONFIGS_DIR), work_dir, level))
        elif isinstance(layer, LayerSpec):
            out.append(write_layer(layer, work_dir, level))
        elif isinstance(layer, LayerBlob | ExistingLayer):
            out.append(layer)
        elif isinstance(layer, PendingLayer):
            out.append(layer.wait())
        else:
            raise TypeError(f"not a layer: {layer!r}")
    return out


def _layer_descriptor(layer: LayerBlob | ExistingLayer, fmt: str) -> Descriptor:
    if isinstance(layer, ExistingLayer):
        return layer.descriptor.with_media_type(mt.media_type_for(layer.descriptor.media_type, fmt))
    media_type = mt.DOCKER_LAYER_GZIP if fmt == mt.FORMAT_DOCKER else mt.OCI_LAYER_GZIP
    return Descriptor(media_type, layer.digest, layer.size, annotations=dict(layer.annotations) or None)


def _dump_config(config: Mapping[str, Any]) -> bytes:
    return json.dumps(config, separators=(",", ":"), ensure_ascii=False).encode()


def _new_config(
    base: Mapping[str, Any] | None,
    platform: Platform,
    diff_ids: Sequence[str],
    labels: Mapping[str, str],
    created: str,
    history: Sequence[str],
    entrypoint: Sequence[str] | None,
    cmd: Sequence[str] | None,
) -> dict[str, Any]:
    config: dict[str, Any] = json.loads(json.dumps(base)) if base else {}
    config["architecture"] = platform.architecture
    config["os"] = platform.os or "linux"
    if platform.variant:
        config["variant"] = platform.variant
    config["created"] = created
    runtime = config.setdefault("config", {}) or {}
    config["config"] = runtime
    runtime["Labels"] = {**(runtime.get("Labels") or {}), **labels}
    if entrypoint is not None:
        runtime["Entrypoint"] = list(entrypoint)
    if cmd is not None:
        runtime["Cmd"] = list(cmd)
    rootfs = config.get("rootfs") or {"type": "layers", "diff_ids": []}
    rootfs["type"] = "layers"
    rootfs["diff_ids"] = list(rootfs.get("diff_ids") or []) + list(diff_ids)
    config["rootfs"] = rootfs
    if base is None or base.get("history") is not None:
        config["history"] = list(config.get("history") or []) + [
            {"created": created, "created_by": line, "comment": "iib-tekton"} for line in history
        ]
    return config


def build_index_image(
    binary_image: str | ImageLocation,
    catalog: Path | Sequence[CatalogLayer],
    destinations: Sequence[str | ImageLocation],
    *,
    arches: Sequence[str] | None = None,
    labels: Mapping[str, str] | Callable[[list[LayerBlob | ExistingLayer]], Mapping[str, str]] | None = None,
    fmt: str = mt.FORMAT_DOCKER,
    client: RegistryClient | None = None,
    work_dir: Path | None = None,
    level: int = DEFAULT_LEVEL,
    created: str = EPOCH,
) -> BuildResult:
    """Build and push an FBC index image for every requested architecture.

    ``binary_image``: the opm image (a multi-arch list or a single image), or ``scratch`` for a
    binaryless catalog (no entrypoint; ``arches`` default to amd64).
    ``catalog``: a catalog directory (one layer at ``/configs``), or a list of layers, bottom first:
    ``LayerSpec`` (files to pack, e.g. ``LayerSpec.directory(dir, "/configs", include=[pkgs])``),
    ``LayerBlob`` (a layer written before), ``ExistingLayer`` (from ``get_layers`` of another
    image: reused by mount/link, not rebuilt or re-uploaded), ``PendingLayer`` (being packed
    elsewhere: pushed as soon as it is done), or a ``Path``.
    ``destinations``: tags to write (``host/repo:tag``, ``docker://...``, ``oci:DIR:tag``); several
    repositories are allowed. ``arches``: default all of the binary image's. ``labels``: added to
    the binary image's labels (``operators.operatorframework.io.index.configs.v1=/configs`` always),
    or a function of the catalog layers built (for labels that name them).
    ``work_dir``: where the new layers are written and kept (named by digest), so that the
    ``LayerBlob``s in the result can be pushed again; by default a temporary directory, removed.
    ``fmt``: ``v2s2`` (a Docker manifest list, IIB's output) or ``oci`` (an OCI image index); an OCI
    layout destination always gets OCI media types (``pull_specs`` give each destination's digest).
    """
    if fmt not in mt.FORMATS:
        raise StepError(f"unknown image format {fmt!r}; use one of {', '.join(mt.FORMATS)}")
    client = client or default_client()
    targets = targets_for(destinations, client)
    binaryless = isinstance(binary_image, str) and binary_image == BINARYLESS
    layers_in = [catalog] if isinstance(catalog, Path) else list(catalog)
    if not layers_in:
        raise StepError("the index image needs at least one catalog layer")
    with tempfile.TemporaryDirectory(prefix="iib-build-") as tmp:
        tmp_dir = Path(work_dir) if work_dir is not None else Path(tmp)
        pusher = Pusher(client)
        uploaded_before = client.bytes_uploaded
        # Repositories that may already hold our new layers (e.g. the fixed whiteout layer).
        mount_sources = [
            open_store(layer.source, client) for layer in layers_in if isinstance(layer, ExistingLayer)
        ]
        with ThreadPoolExecutor(max_workers=_PUSH_THREADS) as pool:
            # Network work first, while the catalog layers are compressed here (CPU) or elsewhere:
            # the binary image is read and its layers put in place, and each layer packed elsewhere
            # goes up the moment it is done.
            binary_future = (
                pool.submit(_place_binary, binary_image, arches, client, targets, pusher)
                if not binaryless
                else None
            )
            early = [
                pool.submit(_push_packed, pusher, target, layer, mount_sources)
                for layer in layers_in
                if isinstance(layer, PendingLayer)
                for target in targets
            ]
            added = _materialize_layers([CONFIGS_BASE_LAYER, *layers_in], tmp_dir, level)
            arch_images = binary_future.result() if binary_future else {}
            late = []
            for target in targets:
                for layer_in, layer in zip([CONFIGS_BASE_LAYER, *layers_in], added, strict=True):
                    if isinstance(layer_in, PendingLayer):
                        continue  # on its way already
                    if isinstance(layer, LayerBlob):
                        late.append(pool.submit(pusher.blob_from_file, target, layer, mount_sources))
                    else:
                        src = open_store(layer.source, client)
                        late.append(pool.submit(pusher.blob_from_store, target, src, layer.descriptor))
            for future in early + late:
                future.result()
        all_labels = {**(labels(added[1:]) if callable(labels) else labels or {}), CONFIGS_LABEL: CONFIGS_DIR}
        if binaryless:
            wanted = sorted(set(arches or ["amd64"]))
            platforms = {a: Platform(a) for a in wanted}
        else:
            wanted = sorted(arch_images)
            platforms = {a: arch_images[a].platform for a in wanted}

        children: list[RawManifest] = []
        arch_digests: dict[str, str] = {}
        layer_descs = [_layer_descriptor(layer, fmt) for layer in added]
        diff_ids = [layer.diff_id for layer in added]
        history = [f"iib-step: layer {i} of /configs" for i in range(len(added))]
        for arch in wanted:
            base = arch_images[arch] if not binaryless else None
            config = _new_config(
                base.config if base else None,
                platforms[arch],
                diff_ids,
                all_labels,
                created,
                history,
                None if binaryless else ["/bin/opm"],
                None if binaryless else ["serve", CONFIGS_DIR, f"--cache-dir={CACHE_DIR}"],
            )
            config_bytes = _dump_config(config)
            config_desc = Descriptor(
                mt.DOCKER_CONFIG if fmt == mt.FORMAT_DOCKER else mt.OCI_CONFIG,
                mt.sha256_digest(config_bytes),
                len(config_bytes),
            )
            for target in targets:
                pusher.blob_bytes(target, config_bytes)
            base_layers = (
                [d.with_media_type(mt.media_type_for(d.media_type, fmt)) for d in base.parsed.layers]
                if base
                else []
            )
            manifest = ImageManifest(
                mt.DOCKER_MANIFEST if fmt == mt.FORMAT_DOCKER else mt.OCI_MANIFEST,
                config_desc,
                tuple(base_layers + layer_descs),
            )
            raw = RawManifest(manifest.to_bytes(), manifest.media_type)
            children.append(raw)
            arch_digests[arch] = raw.digest
        index = ImageIndex(
            mt.DOCKER_LIST if fmt == mt.FORMAT_DOCKER else mt.OCI_INDEX,
            tuple(raw.descriptor(platforms[arch]) for arch, raw in zip(wanted, children, strict=True)),
        )
        top = RawManifest(index.to_bytes(), index.media_type)
        digests = push_manifests(targets, top, children)

    return BuildResult(
        digest=top.digest,
        media_type=top.media_type,
        arch_digests=arch_digests,
        destinations=[str(d) for d in destinations],
        pull_specs=[pinned(t, d) for t, d in zip(targets, digests, strict=True)],
        layers=[layer for layer in added[1:]],
        bytes_uploaded=client.bytes_uploaded - uploaded_before,
        blobs=dict(pusher.counts),
    )


def _push_packed(pusher: Pusher, target: Target, layer: PendingLayer, mount_from: Sequence[Store]) -> None:
    pusher.blob_from_file(target, layer.wait(), mount_from)


def _place_binary(
    binary_image: str | ImageLocation,
    arches: Sequence[str] | None,
    client: RegistryClient,
    targets: Sequence[Target],
    pusher: Pusher,
) -> dict[str, ArchImage]:
    """Read the binary image and make sure every destination holds its layers (mounted, mostly)."""
    reader, images = _read_binary(binary_image, arches, client)
    descs = {d.digest: d for img in images.values() for d in img.parsed.layers}
    run_all(
        [lambda t=t, d=d: pusher.blob_from_store(t, reader.store, d) for t in targets for d in descs.values()]
    )
    return images


def _read_binary(
    binary_image: str | ImageLocation, arches: Sequence[str] | None, client: RegistryClient
) -> tuple[ImageReader, dict[str, ArchImage]]:
    reader = ImageReader(binary_image, client)
    by_arch = reader.images_by_arch()
    wanted = sorted(set(arches)) if arches else sorted(by_arch)
    if not wanted:
        raise StepError("No arches were provided to build the index image")
    missing = [a for a in wanted if a not in by_arch]
    if missing:
        raise StepError(f"The binary image is not available for the following arches: {', '.join(missing)}")
    images: dict[str, ArchImage] = {}

    def fetch(arch: str) -> None:
        plat, desc = by_arch[arch]
        images[arch] = reader.arch_image(desc, plat if desc is not None else None)

    run_all([lambda a=a: fetch(a) for a in wanted])
    for arch, img in images.items():
        for desc in img.parsed.layers:
            if desc.media_type not in mt.REUSABLE_LAYERS:
                kind = desc.media_type
                raise StepError(
                    f"the binary image's {arch} layer {desc.digest} has an unsupported type: {kind}"
                )
    return reader, {a: images[a] for a in wanted}


def bundle_labels(bundle_dir: Path) -> dict[str, str]:
    """The ``annotations`` of ``metadata/annotations.yaml``, as image labels."""
    path = bundle_dir / "metadata" / "annotations.yaml"
    try:
        doc = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise StepError(f"the bundle {bundle_dir} has no metadata/annotations.yaml") from None
    except yaml.YAMLError as exc:
        raise StepError(f"cannot parse {path}: {str(exc).splitlines()[0]}") from None
    annotations = (doc or {}).get("annotations") if isinstance(doc, dict) else None
    if not isinstance(annotations, dict):
        raise StepError(f"{path} has no 'annotations' mapping")
    return {str(k): str(v) for k, v in annotations.items()}


def build_bundle_image(
    bundle_dir: Path,
    destinations: Sequence[str | ImageLocation],
    *,
    labels: Mapping[str, str] | None = None,
    fmt: str = mt.FORMAT_DOCKER,
    arch: str = "amd64",
    client: RegistryClient | None = None,
    level: int = DEFAULT_LEVEL,
    created: str = EPOCH,
) -> BuildResult:
    """Build and push a bundle image: ``/manifests`` and ``/metadata`` from ``bundle_dir``, one layer,
    labels from ``metadata/annotations.yaml`` plus ``labels``; one image (not a list), as opm builds it.
    """
    if fmt not in mt.FORMATS:
        raise StepError(f"unknown image format {fmt!r}; use one of {', '.join(mt.FORMATS)}")
    bundle_dir = Path(bundle_dir)
    for sub in ("manifests", "metadata"):
        if not (bundle_dir / sub).is_dir():
            raise StepError(f"the bundle {bundle_dir} has no {sub}/ directory")
    all_labels = {**bundle_labels(bundle_dir), **(labels or {})}
    client = client or default_client()
    targets = targets_for(destinations, client)
    spec = LayerSpec((("/manifests", bundle_dir / "manifests"), ("/metadata", bundle_dir / "metadata")))
    with tempfile.TemporaryDirectory(prefix="iib-bundle-") as tmp:
        layer = write_layer(spec, Path(tmp), level)
        config = _new_config(
            None,
            Platform(arch),
            [layer.diff_id],
            all_labels,
            created,
            ["iib-step: bundle content"],
            None,
            None,
        )
        config_bytes = _dump_config(config)
        pusher = Pusher(client)
        uploaded_before = client.bytes_uploaded
        for target in targets:
            pusher.blob_from_file(target, layer)
            pusher.blob_bytes(target, config_bytes)
        manifest = ImageManifest(
            mt.DOCKER_MANIFEST if fmt == mt.FORMAT_DOCKER else mt.OCI_MANIFEST,
            Descriptor(
                mt.DOCKER_CONFIG if fmt == mt.FORMAT_DOCKER else mt.OCI_CONFIG,
                mt.sha256_digest(config_bytes),
                len(config_bytes),
            ),
            (_layer_descriptor(layer, fmt),),
        )
        raw = RawManifest(manifest.to_bytes(), manifest.media_type)
        digests = push_manifests(targets, raw)
    return BuildResult(
        digest=raw.digest,
        media_type=raw.media_type,
        arch_digests={arch: raw.digest},
        destinations=[str(d) for d in destinations],
        pull_specs=[pinned(t, d) for t, d in zip(targets, digests, strict=True)],
        layers=[layer],
        bytes_uploaded=client.bytes_uploaded - uploaded_before,
        blobs=dict(pusher.counts),
    )


__all__ = [
    "BINARYLESS",
    "CONFIGS_LABEL",
    "BuildResult",
    "CatalogLayer",
    "ExistingLayer",
    "LayerSpec",
    "build_bundle_image",
    "build_index_image",
    "bundle_labels",
]
