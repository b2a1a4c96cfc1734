"""Tekton bundles (spec/tekton.md §3): Tasks and Pipelines as an OCI image, one object per layer.

The format is the one ``tkn bundle push`` writes and Tekton's ``bundles`` resolver reads: a Docker
v2s2 image whose layers are gzipped tar archives holding one regular file each, named after the
object (mode 0600), whose content is the object as JSON; each layer descriptor carries the
``dev.tekton.image.apiVersion`` (the version only, e.g. ``v1``), ``dev.tekton.image.kind`` (lower
case, singular) and ``dev.tekton.image.name`` annotations; at most 20 layers. Layers are ordered by
the sha256 of their source file and the config's ``created`` is fixed, so the same files give the
same digest. Bundles go to a registry or to an OCI layout (``oci:PATH[:TAG]``).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from iib_steps.errors import StepError
from iib_steps.images.manifests import (
    DOCKER_CONFIG,
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    FORMAT_DOCKER,
    FORMAT_OCI,
    FORMATS,
    Descriptor,
    ImageManifest,
    RawManifest,
    media_type_for,
    sha256_digest,
)
from iib_steps.images.reference import LayoutImage, parse_image
from iib_steps.images.registry import RegistryClient
from iib_steps.images.stores import Store, open_store

MAX_OBJECTS = 20
API_VERSION = "dev.tekton.image.apiVersion"
KIND = "dev.tekton.image.kind"
NAME = "dev.tekton.image.name"
KINDS = ("task", "pipeline", "stepaction")
LISTABLE_KINDS = ("task", "pipeline")  # what tkn bundle list accepts
EPOCH = "1970-01-01T00:00:00Z"


@dataclass(frozen=True)
class BundleObject:
    """One Tekton object of a bundle: its annotations' values and its JSON bytes."""

    api_version: str  # the version part, e.g. "v1"
    kind: str  # lower case, singular: task, pipeline, stepaction
    name: str
    data: bytes

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.data)


def normalise_kind(kind: str) -> str:
    """``Task``, ``tasks`` and ``task`` are all ``task`` (as tkn and the resolver compare kinds)."""
    return kind.lower().removesuffix("s")


def to_json(body: Mapping[str, Any]) -> bytes:
    """An object as compact JSON with sorted keys (as Kubernetes' YAML-to-JSON conversion gives it)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def objects_from_text(text: str, source: str) -> list[dict[str, Any]]:
    """The Tekton objects of one YAML (or JSON) file, in order; each needs apiVersion, kind and a name."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StepError(f"{source} is not valid YAML or JSON: {first}") from None
    objects: list[dict[str, Any]] = []
    for doc in docs:
        for item in doc if isinstance(doc, list) else [doc]:
            if not isinstance(item, dict):
                raise StepError(f"{source}: every document must be a Tekton object (a mapping)")
            group, _, version = str(item.get("apiVersion", "")).rpartition("/")
            kind = normalise_kind(str(item.get("kind", "")))
            name = (item.get("metadata") or {}).get("name")
            if group != "tekton.dev" or not version:
                raise StepError(f"{source}: {item.get('apiVersion')!r} is not a tekton.dev apiVersion")
            if kind not in KINDS:
                raise StepError(
                    f"{source}: kind {item.get('kind')!r} cannot go in a bundle; use Task or Pipeline"
                )
            if not name:
                raise StepError(f"{source}: a {item.get('kind')} needs metadata.name")
            objects.append(item)
    return objects


def collect(files: Iterable[tuple[str, str]], task_bundle: str | None = None) -> list[BundleObject]:
    """The bundle's objects from ``(source, text)`` pairs, ordered by the sha256 of each source's text.

    With ``task_bundle``, Pipelines run their Tasks from that bundle (:func:`use_task_bundle`).
    """
    ordered = sorted(files, key=lambda f: (hashlib.sha256(f[1].encode()).hexdigest(), f[0]))
    out: list[BundleObject] = []
    seen: set[tuple[str, str, str]] = set()
    for source, text in ordered:
        for body in objects_from_text(text, source):
            if task_bundle:
                body = use_task_bundle(body, task_bundle)
            obj = BundleObject(
                api_version=str(body["apiVersion"]).rpartition("/")[2],
                kind=normalise_kind(str(body["kind"])),
                name=str(body["metadata"]["name"]),
                data=to_json(body),
            )
            key = (obj.api_version, obj.kind, obj.name)
            if key in seen:
                raise StepError(f"{obj.kind} {obj.name!r} ({obj.api_version}) is in the bundle twice")
            seen.add(key)
            out.append(obj)
    if not out:
        raise StepError("no Tekton objects to bundle: give Task or Pipeline files with -f")
    if len(out) > MAX_OBJECTS:
        raise StepError(f"a Tekton bundle holds at most {MAX_OBJECTS} objects, not {len(out)}; split it")
    return out


def layer_tar(obj: BundleObject) -> bytes:
    """The uncompressed layer: a tar archive with one file named after the object."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(obj.name)
        info.size, info.mode, info.mtime, info.type = len(obj.data), 0o600, 0, tarfile.REGTYPE
        tar.addfile(info, io.BytesIO(obj.data))
    return buffer.getvalue()


def created_time(ctime: str | None = None) -> str:
    """``--ctime`` (RFC 3339), else ``$SOURCE_DATE_EPOCH``, else the Unix epoch: never the clock."""
    if ctime:
        try:
            when = datetime.fromisoformat(ctime.replace("Z", "+00:00"))
        except ValueError:
            raise StepError(
                f"--ctime {ctime!r} is not an RFC 3339 time such as 2024-05-01T00:00:00Z"
            ) from None
        return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            raise StepError(f"SOURCE_DATE_EPOCH {epoch!r} is not a number of seconds") from None
    return EPOCH


@dataclass(frozen=True)
class BuiltBundle:
    manifest: RawManifest
    config: bytes
    layers: list[tuple[Descriptor, bytes]]


def build(
    objects: list[BundleObject],
    *,
    annotations: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    ctime: str | None = None,
    fmt: str = FORMAT_DOCKER,
) -> BuiltBundle:
    """The bundle image for ``objects`` (already ordered and checked by :func:`collect`).

    ``fmt`` ``v2s2`` gives tkn's Docker media types; ``oci`` the OCI ones (both are read by the
    resolver; an OCI layout needs the OCI ones for skopeo and other readers).
    """
    if fmt not in FORMATS:
        raise StepError(f"the bundle format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    layers: list[tuple[Descriptor, bytes]] = []
    diff_ids = []
    for obj in objects:
        tar = layer_tar(obj)
        blob = gzip.compress(tar, compresslevel=1, mtime=0)
        diff_ids.append(sha256_digest(tar))
        desc = Descriptor(
            media_type_for(DOCKER_LAYER_GZIP, fmt),
            sha256_digest(blob),
            len(blob),
            annotations={API_VERSION: obj.api_version, KIND: obj.kind, NAME: obj.name},
        )
        layers.append((desc, blob))
    config = to_json(
        {
            "architecture": "",
            "os": "",
            "created": created_time(ctime),
            "config": {"Labels": dict(labels)} if labels else {},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }
    )
    manifest = ImageManifest(
        media_type_for(DOCKER_MANIFEST, fmt),
        Descriptor(media_type_for(DOCKER_CONFIG, fmt), sha256_digest(config), len(config)),
        tuple(desc for desc, _ in layers),
        dict(annotations) if annotations else None,
    )
    return BuiltBundle(RawManifest(manifest.to_bytes(), manifest.media_type), config, layers)


def default_format(ref: str) -> str:
    """tkn's Docker v2s2 for a registry, OCI for an OCI layout (what layout readers accept)."""
    return FORMAT_OCI if ref.startswith("oci:") else FORMAT_DOCKER


def _client() -> RegistryClient:
    return RegistryClient()


def push(bundle: BuiltBundle, ref: str, client: RegistryClient | None = None) -> str:
    """Write ``bundle`` to ``ref`` (registry or ``oci:`` layout): blobs first, the manifest last.

    Returns the pushed reference by digest, e.g. ``host/repo@sha256:...``.
    """
    location = parse_image(ref)
    if location.digest:
        raise StepError(f"push to a tag, not a digest: {ref}")
    store: Store = open_store(location, client or _client())
    for desc, blob in bundle.layers:
        if not store.has_blob(desc.digest):
            store.put_blob_bytes(desc.digest, blob)
    config_digest = sha256_digest(bundle.config)
    if not store.has_blob(config_digest):
        store.put_blob_bytes(config_digest, bundle.config)
    store.put_manifest(bundle.manifest, location.tag or "latest")
    if isinstance(location, LayoutImage):
        return f"oci:{location.path}@{bundle.manifest.digest}"
    return f"{location.registry}/{location.repository}@{bundle.manifest.digest}"


def read(ref: str, client: RegistryClient | None = None) -> list[BundleObject]:
    """The objects of the bundle at ``ref``, in layer order, checked against the bundle contract."""
    location = parse_image(ref)
    store = open_store(location, client or _client())
    raw = store.get_manifest(location.reference)
    if raw.is_index:
        raise StepError(f"{ref} is an image index, not a Tekton bundle (a single image manifest)")
    manifest = raw.parse()
    assert isinstance(manifest, ImageManifest)
    if len(manifest.layers) > MAX_OBJECTS:
        raise StepError(f"{ref} has {len(manifest.layers)} layers; a Tekton bundle has at most {MAX_OBJECTS}")
    objects = []
    for desc in manifest.layers:
        notes = desc.annotations or {}
        missing = [a for a in (API_VERSION, KIND, NAME) if not notes.get(a)]
        if missing:
            raise StepError(f"layer {desc.digest} of {ref} lacks the annotation(s) {', '.join(missing)}")
        objects.append(
            BundleObject(notes[API_VERSION], notes[KIND], notes[NAME], _layer_content(store, desc))
        )
    return objects


def _layer_content(store: Store, desc: Descriptor) -> bytes:
    blob = store.read_blob(desc.digest)
    if blob[:2] == b"\x1f\x8b":
        blob = gzip.decompress(blob)
    try:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as tar:
            member = tar.next()
            if member is None or not member.isfile():
                raise StepError(f"layer {desc.digest} holds no file")
            handle = tar.extractfile(member)
            assert handle is not None
            return handle.read()
    except tarfile.ReadError:
        return blob  # not a tar: the raw bytes are the object (as the resolver allows)


def select(
    objects: list[BundleObject], kind: str | None = None, name: str | None = None
) -> list[BundleObject]:
    """``tkn bundle list``'s filter: by kind, then by name, with its error messages."""
    if kind is None:
        return objects
    wanted = normalise_kind(kind)
    if wanted not in LISTABLE_KINDS:
        kinds = " ".join(f'"{k}"' for k in LISTABLE_KINDS)
        raise StepError(f"second argument {kind} is not a valid kind: [{kinds}]")
    chosen = [o for o in objects if o.kind == wanted]
    if not chosen:
        raise StepError(f"no objects of kind {wanted} found in img")
    if name is not None:
        chosen = [o for o in chosen if o.name == name]
        if not chosen:
            raise StepError(f"no objects of kind {wanted} named {name} found in img")
    return chosen


def use_task_bundle(body: dict[str, Any], task_bundle: str) -> dict[str, Any]:
    """A Pipeline whose ``taskRef: {name: X}`` entries run Task X from the bundle ``task_bundle``
    through Tekton's ``bundles`` resolver; other objects and resolver refs are returned unchanged."""
    if body.get("kind") != "Pipeline":
        return body
    out = json.loads(json.dumps(body))
    for section in ("tasks", "finally"):
        for task in out.get("spec", {}).get(section) or []:
            ref = task.get("taskRef")
            if isinstance(ref, dict) and ref.get("name") and not ref.get("resolver"):
                task["taskRef"] = {
                    "resolver": "bundles",
                    "params": [
                        {"name": "bundle", "value": task_bundle},
                        {"name": "name", "value": ref["name"]},
                        {"name": "kind", "value": normalise_kind(ref.get("kind") or "task")},
                    ],
                }
    return out


def files(paths: Iterable[str | Path]) -> list[tuple[str, str]]:
    out = []
    for path in paths:
        try:
            out.append((str(path), Path(path).read_text()))
        except OSError as exc:
            raise StepError(f"failed to find and read file {path}: {exc.strerror}") from None
    return out
