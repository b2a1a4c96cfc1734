"""Pushing to one or more destinations: blobs once each, manifests by digest, tags last."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from iib_steps.errors import StepError
from iib_steps.images import manifests as mt
from iib_steps.images.inspect import as_location
from iib_steps.images.layers import LayerBlob
from iib_steps.images.manifests import Descriptor, ImageIndex, ImageManifest, RawManifest
from iib_steps.images.reference import ImageLocation, LayoutImage, RegistryImage
from iib_steps.images.registry import RegistryClient
from iib_steps.images.stores import LayoutStore, RegistryStore, Store, open_store, transfer_blob


@dataclass
class Target:
    """One destination repository and the tags to write in it."""

    store: Store
    location: ImageLocation
    tags: list[str]


def targets_for(destinations: Sequence[str | ImageLocation], client: RegistryClient) -> list[Target]:
    if not destinations:
        raise StepError("no destination given for the image")
    targets: dict[str, Target] = {}
    for dest in destinations:
        loc = as_location(dest)
        if loc.digest:
            raise StepError(f"a destination must be a tag, not a digest: {loc}")
        if isinstance(loc, RegistryImage):
            key, tag = f"{loc.registry}/{loc.repository}", loc.tag or "latest"
        else:
            assert isinstance(loc, LayoutImage)
            key, tag = f"oci:{loc.path.resolve()}", loc.tag or "latest"
        if key not in targets:
            targets[key] = Target(open_store(loc, client), loc, [])
        if tag not in targets[key].tags:
            targets[key].tags.append(tag)
    return list(targets.values())


def pinned(target: Target, digest: str) -> str:
    return str(target.location.with_digest(digest))


class Pusher:
    """Puts blobs into targets once each, counting how they got there."""

    def __init__(self, client: RegistryClient) -> None:
        self.client = client
        self.counts: dict[str, int] = {}
        self._done: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def _count(self, how: str) -> None:
        with self._lock:
            self.counts[how] = self.counts.get(how, 0) + 1

    def blob_from_store(self, target: Target, src: Store, desc: Descriptor) -> None:
        key = (target.store.name, desc.digest)
        if key in self._done:
            return
        if src.name == target.store.name:
            # A layer of an image in the target repository itself (the previous index's catalog
            # groups): the repository holds it by definition, no request needed.
            self._count("present")
        else:
            self._count(transfer_blob(src, target.store, desc))
        self._done.add(key)

    def blob_from_file(self, target: Target, layer: LayerBlob, mount_from: Sequence[Store] = ()) -> None:
        """Upload a local layer unless the target has it, or can mount it from one of ``mount_from``
        (repositories of the same registry that may hold it, e.g. the previous index image's)."""
        key = (target.store.name, layer.digest)
        if key in self._done:
            return
        if target.store.has_blob(layer.digest):
            self._count("present")
        elif self._mount_any(target, layer.digest, mount_from):
            self._count("mounted")
        else:
            target.store.put_blob_file(layer.digest, layer.size, layer.path)
            self._count("uploaded")
        self._done.add(key)

    def _mount_any(self, target: Target, digest: str, sources: Sequence[Store]) -> bool:
        dst = target.store
        if not isinstance(dst, RegistryStore):
            return False
        for src in sources:
            if not isinstance(src, RegistryStore) or src.host != dst.host or src.repository == dst.repository:
                continue
            if src.has_blob(digest) and dst.client.mount_blob(
                dst.host, dst.repository, digest, src.repository
            ):
                return True
        return False

    def blob_bytes(self, target: Target, data: bytes) -> Descriptor:
        digest = mt.sha256_digest(data)
        key = (target.store.name, digest)
        if key not in self._done:
            if target.store.has_blob(digest):
                self._count("present")
            else:
                target.store.put_blob_bytes(digest, data)
                self._count("uploaded")
            self._done.add(key)
        return Descriptor("", digest, len(data))


def run_all(tasks: Sequence[Callable[[], Any]], threads: int = 4) -> None:
    """Run independent tasks on a few threads; the first failure is raised."""
    if len(tasks) <= 1:
        for task in tasks:
            task()
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for fut in [pool.submit(t) for t in tasks]:
            fut.result()


def push_manifests(
    targets: list[Target], top: RawManifest, children: Sequence[RawManifest] = ()
) -> list[str]:
    """Push children and ``top`` by digest everywhere, then write every tag (so tags move last).

    An OCI layout gets OCI media types (skopeo's ``oci:`` transport finds nothing else), so a Docker
    list is converted for it; returns the top digest written to each target.
    """
    plan = []
    for target in targets:
        if isinstance(target.store, LayoutStore) and top.media_type in (mt.DOCKER_LIST, mt.DOCKER_MANIFEST):
            plan.append((target, *to_oci(top, children)))
        else:
            plan.append((target, top, list(children)))
    for target, t_top, t_children in plan:
        for child in t_children:
            target.store.put_manifest(child)
        target.store.put_manifest(t_top)
    for target, t_top, _ in plan:
        for tag in target.tags:
            target.store.put_manifest(t_top, tag)
    return [t_top.digest for _, t_top, _ in plan]


def _manifest_to_oci(raw: RawManifest) -> RawManifest:
    parsed = raw.parse()
    assert isinstance(parsed, ImageManifest)
    fmt = mt.FORMAT_OCI
    converted = ImageManifest(
        mt.OCI_MANIFEST,
        parsed.config.with_media_type(mt.media_type_for(parsed.config.media_type, fmt)),
        tuple(layer.with_media_type(mt.media_type_for(layer.media_type, fmt)) for layer in parsed.layers),
        parsed.annotations,
    )
    return RawManifest(converted.to_bytes(), mt.OCI_MANIFEST)


def to_oci(top: RawManifest, children: Sequence[RawManifest]) -> tuple[RawManifest, list[RawManifest]]:
    """The same image with OCI media types (new digests; configs and layers are unchanged blobs)."""
    if top.media_type == mt.DOCKER_MANIFEST:
        return _manifest_to_oci(top), []
    parsed = top.parse()
    assert isinstance(parsed, ImageIndex)
    by_digest = {c.digest: _manifest_to_oci(c) if c.media_type == mt.DOCKER_MANIFEST else c for c in children}
    entries = []
    for desc in parsed.manifests:
        new = by_digest[desc.digest]
        entries.append(Descriptor(new.media_type, new.digest, len(new.data), desc.platform, desc.annotations))
    index = ImageIndex(mt.OCI_INDEX, tuple(entries), parsed.annotations)
    return RawManifest(index.to_bytes(), mt.OCI_INDEX), list(by_digest.values())
