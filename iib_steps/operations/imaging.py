"""What the operations need from images, on top of :mod:`iib_steps.images`: facts about an image (IIB's
``skopeo inspect`` calls), extracting catalogs and bundles, building and pushing, copying.

Index images are laid out by :mod:`iib_steps.catalog_layers`: one layer per group of packages. The
label :data:`LAYER_MAP_LABEL` records ``{"groups": N, "layers": {group: diff_id}}`` so that the next
build from this image reuses every group it does not change (mounted, never re-uploaded), and
:data:`VALIDATED_LABEL` records which catalog layers passed validation together.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from iib_steps import resolve as rs
from iib_steps.catalog_layers import (
    CONFIGS_DIR,
    LAYER_MAP_LABEL,
    VALIDATED_LABEL,
    catalog_diff_ids,
    group_layer_spec,
    layer_map_label,
    parse_layer_map,
    partition,
    record_matches,
    validation_record,
)
from iib_steps.config import Settings
from iib_steps.errors import StepError
from iib_steps.images import manifests as mt
from iib_steps.images.auth import AuthStore, Credentials
from iib_steps.images.build import EPOCH, PendingLayer, build_bundle_image, build_index_image, bundle_labels
from iib_steps.images.copy import copy_image
from iib_steps.images.extract import extract_bundle, extract_index_catalog, extract_layers, extract_paths
from iib_steps.images.inspect import ExistingLayer, ImageReader
from iib_steps.images.layers import LayerBlob, LayerSpec, write_layer
from iib_steps.images.manifests import Descriptor, ImageIndex, ImageManifest, Platform, RawManifest
from iib_steps.images.push import Pusher, push_manifests, targets_for
from iib_steps.images.registry import RegistryClient, insecure_registries_from_env
from iib_steps.operations.prepack import Prepacker


@dataclass(frozen=True)
class IndexLayers:
    """The catalog layers of an index built here, by group, and whether its validation record
    matches them (then the catalog they hold is known to be valid as a whole)."""

    layers: dict[int, ExistingLayer]
    validated: bool


def output_format(outputs: Sequence[str]) -> str:
    """Docker v2s2 (IIB's output, what its clients filter on) for registries; OCI for ``oci:``
    layouts, whose readers (skopeo's ``oci:`` transport) only index OCI media types."""
    return mt.FORMAT_OCI if all(o.startswith("oci:") for o in outputs) else mt.FORMAT_DOCKER


@dataclass(slots=True)
class ImageInfo:
    """IIB's view of one image."""

    pull_spec: str
    resolved: str  # name@digest of what the reference points at (the list for a multi-arch image)
    bundle_resolved: str  # name@digest of the first manifest for a list (IIB's bundle rule)
    digest: str
    media_type: str
    arches: list[str]
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class BuiltImage:
    pull_spec: str  # the first destination (the request-id tag)
    digest: str
    arch_digests: dict[str, str]
    destinations: list[str]
    bytes_uploaded: int = 0
    layers_reused: int = 0
    layers_built: int = 0


class ImageIO:
    """Image operations for one step run, sharing one registry client and caching inspections."""

    def __init__(
        self,
        settings: Settings,
        client: RegistryClient | None = None,
        *,
        registry_auths: Mapping | None = None,
    ) -> None:
        self.settings = settings
        self.registry_auths = dict(registry_auths or {})
        if client is None:
            insecure = insecure_registries_from_env() | set(settings.insecure_registries)
            client = RegistryClient(auth=self._auth_store(), insecure=insecure)
        self.client = client
        self._cache: dict[tuple[str, bool], ImageInfo] = {}

    def _auth_store(self) -> AuthStore | None:
        """The configured auth file, with the request's ``registry_auths`` merged over it (as IIB's
        ``set_registry_auths``); None means the environment's default file."""
        path = self.settings.registry_auth_file
        if not self.registry_auths:
            return AuthStore.from_file(Path(path)) if path else None
        merged: dict = {}
        if path:
            try:
                merged = dict(json.loads(Path(path).read_text()).get("auths") or {})
            except (OSError, ValueError, AttributeError) as exc:
                raise StepError(f"cannot read registry auth file {path}: {exc}") from None
        merged.update(self.registry_auths)
        with tempfile.NamedTemporaryFile("w", suffix=".json") as tmp:
            tmp.write(json.dumps({"auths": merged}))
            tmp.flush()
            return AuthStore.from_file(Path(tmp.name))

    # -- facts -------------------------------------------------------------------------------
    def locate(self, pull_spec: str) -> str:
        """Where to read ``pull_spec`` from (a catalog's OCI-layout pull spec maps back to disk)."""
        return rs.layout_location(pull_spec, self.settings.oci_layout_registry, self.settings.oci_layout_root)

    def inspect(self, pull_spec: str, *, labels: bool = True) -> ImageInfo:
        key = (pull_spec, labels)
        if key in self._cache:
            return self._cache[key]
        if not labels and (pull_spec, True) in self._cache:
            return self._cache[(pull_spec, True)]
        try:
            reader = ImageReader(self.locate(pull_spec), self.client)
            top = reader.top
            arch_digests: dict[str, str] = {}
            for plat, desc in reader.platform_manifests():
                arch_digests.setdefault(plat.architecture, desc.digest if desc is not None else top.digest)
            image_labels = reader.default_arch_image().labels if labels else {}
        except StepError as exc:
            raise StepError(f"cannot read the image {pull_spec}: {exc}") from None
        name = rs.image_name(pull_spec)
        first = next(iter(arch_digests.values()), top.digest)
        is_list = top.media_type.endswith(("manifest.list.v2+json", "image.index.v1+json"))
        info = ImageInfo(
            pull_spec=pull_spec,
            resolved=f"{name}@{top.digest}",
            bundle_resolved=f"{name}@{first if is_list else top.digest}",
            digest=top.digest,
            media_type=top.media_type,
            arches=sorted(arch_digests),
            labels=image_labels,
        )
        self._cache[key] = info
        return info

    def _client_with_token(self, pull_spec: str, token: rs.OverwriteToken) -> RegistryClient | None:
        """A client that uses ``token`` for ``pull_spec``'s repository (None for an OCI layout)."""
        location = ImageReader(pull_spec, self.client).location
        host = getattr(location, "registry", None)
        if host is None:
            return None
        auth = self._auth_store() or AuthStore.from_env()
        auth.add(f"{host}/{location.repository}", Credentials(token.user, token.password))
        return RegistryClient(auth=auth, insecure=self.client.insecure, retry=self.client.retry)

    def check_credentials(self, pull_spec: str, token: rs.OverwriteToken) -> None:
        """Read ``pull_spec`` with the overwrite token: a wrong token fails here, before anything
        is built or pushed."""
        client = self._client_with_token(pull_spec, token)
        if client is None:
            return
        try:
            ImageReader(pull_spec, client).top  # noqa: B018
        except StepError as exc:
            raise StepError(f"the overwrite token cannot access {pull_spec}: {exc}") from None

    # -- extraction ---------------------------------------------------------------------------
    def extract_catalog(self, pull_spec: str | None, dest: Path) -> Path:
        """The index image's catalog as files under ``dest``.

        A File-Based Catalog is extracted as it is. A legacy SQLite index (label
        ``operators.operatorframework.io.index.database.v1``) is migrated to a File-Based Catalog
        as ``opm migrate`` does, so that every operation works on FBC (the output is FBC).
        """
        if not pull_spec:
            return dest
        labels = self.inspect(pull_spec).labels
        database = labels.get(rs.LABEL_DATABASE)
        if labels.get(rs.LABEL_CONFIGS):
            try:
                extract_index_catalog(self.locate(pull_spec), dest, client=self.client)
            except StepError as exc:
                if "has nothing at" not in str(exc):
                    raise
            if any(dest.iterdir()) or not database:
                return dest  # a File-Based Catalog (possibly empty)
        if not database:
            raise StepError(
                f"the index image {pull_spec} has no {rs.LABEL_CONFIGS} or {rs.LABEL_DATABASE} label"
            )
        return self._migrate_database(pull_spec, database, dest)

    def _migrate_database(self, pull_spec: str, database: str, dest: Path) -> Path:
        from catalog.errors import CatalogError
        from catalog.sqlite.read import read_index_db
        from catalog.write import write_fs

        folder, _, name = database.rstrip("/").rpartition("/")
        with tempfile.TemporaryDirectory(prefix="iib-index-db-") as tmp:
            result = extract_paths(self.locate(pull_spec), {folder or "/": Path(tmp)}, client=self.client)
            db = Path(tmp) / name
            if not any(result.found.values()) or not db.is_file():
                raise StepError(f"the index image {pull_spec} has no database at {database}")
            try:
                cfg = read_index_db(db)
            except CatalogError as exc:
                raise StepError(f"the index image {pull_spec} has an unreadable database: {exc}") from None
        dest.mkdir(parents=True, exist_ok=True)
        write_fs(cfg, dest)
        return dest

    def extract_bundle(self, pull_spec: str, dest: Path) -> Path:
        return extract_bundle(self.locate(pull_spec), dest, client=self.client)

    # -- building -----------------------------------------------------------------------------
    def previous_layers(self, index: str, groups: int) -> dict[int, ExistingLayer]:
        """The catalog layers of ``index`` by group, when it was laid out with ``groups`` groups."""
        found = self.catalog_layers(index, groups)
        return found.layers if found else {}

    def catalog_layers(self, index: str, groups: int) -> IndexLayers | None:
        """The catalog layer groups of an index built here with ``groups`` groups (None otherwise),
        and whether its validation record matches them."""
        info = self.inspect(index)
        by_group = parse_layer_map(info.labels, groups)
        if not by_group:
            return None
        reader = ImageReader(self.locate(info.resolved), self.client)
        img = reader.default_arch_image()
        diff_ids = img.diff_ids
        if len(diff_ids) != len(img.parsed.layers):
            return None
        existing = {
            d: ExistingLayer(desc, d, reader.location)
            for desc, d in zip(img.parsed.layers, diff_ids, strict=True)
        }
        layers = {g: existing[d] for g, d in by_group.items() if d in existing}
        validated = len(layers) == len(by_group) and record_matches(img.labels, by_group, diff_ids)
        return IndexLayers(layers, validated)

    def extract_groups(self, index: str, layers: Sequence[ExistingLayer], dest: Path) -> int:
        """Extract these catalog layers of ``index`` into ``dest`` (checking each against its diff_id)."""
        info = self.inspect(index)
        return extract_layers(
            self.locate(info.resolved),
            [(layer.descriptor, layer.diff_id) for layer in layers],
            dest,
            CONFIGS_DIR,
            client=self.client,
        )

    def build_index(
        self,
        *,
        binary_resolved: str | None,
        configs: Path,
        groups: int,
        arches: Sequence[str],
        labels: Mapping[str, str],
        outputs: Sequence[str],
        changed_packages: Sequence[str] | None = None,
        previous_index: str | None = None,
        kept_layers: Mapping[int, ExistingLayer | LayerBlob | PendingLayer] | None = None,
        validated: bool = False,
        prepacked: Prepacker | None = None,
        work_dir: Path,
    ) -> BuiltImage:
        """Build and push the index image whose catalog is ``configs``, one layer per group.

        With ``changed_packages`` and a ``previous_index`` laid out with the same groups, the groups
        holding no changed package reuse the previous image's layers. With ``kept_layers`` (the
        incremental path), ``configs`` holds only some groups: those are packed, and the groups of
        ``kept_layers`` are taken as they are. ``validated``: the whole catalog passed validation and
        is laid out one package per directory, so the image gets a validation record.
        ``prepacked``: groups packed in the background, used for the groups no changed package is in.
        """
        present = partition([p.name for p in configs.iterdir()] if configs.is_dir() else [], groups)
        dirty = set(partition(list(changed_packages), groups)) if changed_packages is not None else None
        reuse: dict[int, ExistingLayer | LayerBlob | PendingLayer] = {}
        if kept_layers is not None:
            clash = set(kept_layers) & set(present)
            if clash:
                raise StepError(f"catalog layer group(s) {sorted(clash)} both kept and rebuilt")
            reuse = dict(kept_layers)
        elif dirty is not None and previous_index:
            reuse = {
                g: layer
                for g, layer in self.previous_layers(previous_index, groups).items()
                if g in present and g not in dirty
            }
        layer_dir = work_dir / "layers"
        layer_dir.mkdir(parents=True, exist_ok=True)
        layers: list[LayerBlob | ExistingLayer | PendingLayer] = []
        order = sorted(set(present) | set(reuse))
        for group in order:
            layer: LayerBlob | ExistingLayer | PendingLayer | None = reuse.get(group)
            if layer is None and prepacked is not None and dirty is not None and group not in dirty:
                layer = prepacked.take(group, present[group])
            if layer is None:
                layer = write_layer(group_layer_spec(configs, present[group]), layer_dir)
            layers.append(layer)
        if not layers:  # an empty catalog is still a /configs directory
            empty = Path(tempfile.mkdtemp(dir=work_dir))
            layers.append(write_layer(LayerSpec.directory(empty, "/configs"), layer_dir))
            shutil.rmtree(empty)

        def all_labels(built: list[LayerBlob | ExistingLayer]) -> dict[str, str]:
            """The labels, with the layer map and record naming the layers (once all are packed)."""
            layer_map = {g: layer.diff_id for g, layer in zip(order, built, strict=False)}
            out = {**labels, LAYER_MAP_LABEL: layer_map_label(groups, layer_map)}
            if validated and layer_map:
                out[VALIDATED_LABEL] = validation_record(catalog_diff_ids(layer_map))
            return out

        result = build_index_image(
            binary_resolved or rs.BINARYLESS,
            layers,
            list(outputs),
            arches=list(arches),
            labels=all_labels,
            fmt=output_format(outputs),
            client=self.client,
            work_dir=work_dir,
        )
        return BuiltImage(
            pull_spec=outputs[0],
            digest=result.digest,
            arch_digests=dict(result.arch_digests),
            destinations=list(outputs),
            bytes_uploaded=result.bytes_uploaded,
            layers_reused=sum(isinstance(layer, ExistingLayer) for layer in reuse.values()),
            layers_built=len(layers) - sum(isinstance(layer, ExistingLayer) for layer in reuse.values()),
        )

    def build_bundle(
        self,
        *,
        base_resolved: str,
        bundle_dir: Path,
        labels: Mapping[str, str],
        arches: Sequence[str],
        output: str,
    ) -> BuiltImage:
        """The regenerated bundle image: its files in one layer, the original image's labels plus
        ``labels``; a manifest list over ``arches`` as IIB pushes it (one image for a single arch)."""
        all_labels = {**self.inspect(base_resolved).labels, **labels}
        if len(arches) <= 1:
            result = build_bundle_image(
                bundle_dir,
                [output],
                fmt=output_format([output]),
                labels=all_labels,
                client=self.client,
                arch=arches[0] if arches else "amd64",
            )
            return BuiltImage(
                output, result.digest, dict(result.arch_digests), [output], result.bytes_uploaded
            )
        all_labels = {**bundle_labels(bundle_dir), **all_labels}
        targets = targets_for([output], self.client)
        pusher = Pusher(self.client)
        before = self.client.bytes_uploaded
        with tempfile.TemporaryDirectory(prefix="iib-bundle-") as tmp:
            spec = LayerSpec(
                (("/manifests", bundle_dir / "manifests"), ("/metadata", bundle_dir / "metadata"))
            )
            layer = write_layer(spec, Path(tmp))
            for target in targets:
                pusher.blob_from_file(target, layer)
            children: list[RawManifest] = []
            for arch in arches:
                config = {
                    "architecture": arch,
                    "os": "linux",
                    "created": EPOCH,
                    "config": {"Labels": all_labels},
                    "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]},
                    "history": [{"created": EPOCH, "created_by": "iib-step regenerate-bundle"}],
                }
                config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
                for target in targets:
                    pusher.blob_bytes(target, config_bytes)
                manifest = ImageManifest(
                    mt.DOCKER_MANIFEST,
                    Descriptor(mt.DOCKER_CONFIG, mt.sha256_digest(config_bytes), len(config_bytes)),
                    (Descriptor(mt.DOCKER_LAYER_GZIP, layer.digest, layer.size),),
                )
                children.append(RawManifest(manifest.to_bytes(), manifest.media_type))
            index = ImageIndex(
                mt.DOCKER_LIST,
                tuple(raw.descriptor(Platform(arch)) for raw, arch in zip(children, arches, strict=True)),
            )
            top = RawManifest(index.to_bytes(), index.media_type)
            digests = push_manifests(targets, top, children)
        return BuiltImage(
            output,
            digests[0],
            {arch: raw.digest for raw, arch in zip(children, arches, strict=True)},
            [output],
            self.client.bytes_uploaded - before,
        )

    def copy(self, source: str, destination: str, *, token: rs.OverwriteToken | None = None) -> str:
        """Copy every architecture of ``source`` to ``destination`` (with the overwrite token if given)."""
        client = (self._client_with_token(destination, token) if token else None) or self.client
        return copy_image(source, [destination], client=client).digest
