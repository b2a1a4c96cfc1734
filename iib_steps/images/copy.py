"""Copying an image with all its architectures (``skopeo copy --all``), keeping every digest.

Manifests are copied byte for byte, so the copy has the source's digest; blobs move the cheapest
way (present, mounted, linked, streamed). Every per-architecture manifest is stored before the list,
and the destination tags are written last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from iib_steps.errors import StepError
from iib_steps.images.inspect import ImageReader, default_client
from iib_steps.images.manifests import ImageIndex, ImageManifest, RawManifest
from iib_steps.images.push import Pusher, push_manifests, run_all, targets_for
from iib_steps.images.reference import ImageLocation
from iib_steps.images.registry import RegistryClient


@dataclass(frozen=True)
class CopyResult:
    """What a copy wrote."""

    digest: str
    media_type: str
    destinations: list[str]
    pull_specs: list[str]
    blobs: dict[str, int] = field(default_factory=dict)


def copy_image(
    source: str | ImageLocation,
    destinations: Sequence[str | ImageLocation],
    *,
    client: RegistryClient | None = None,
) -> CopyResult:
    """Copy ``source`` (every architecture of a list) to each destination tag.

    Registry destinations get byte-identical manifests (same digests); an OCI layout gets OCI media
    types, as ``skopeo copy`` writes them (see ``pull_specs`` for the digest each destination has).
    """
    client = client or default_client()
    reader = ImageReader(source, client)
    targets = targets_for(destinations, client)
    top = reader.top
    parsed = top.parse()
    children: list[RawManifest] = []
    if isinstance(parsed, ImageIndex):
        images = []
        for desc in parsed.manifests:
            raw = reader.store.get_manifest(desc.digest)
            child = raw.parse()
            if not isinstance(child, ImageManifest):
                raise StepError(f"the image {reader.location} nests an index inside an index; not supported")
            children.append(raw)
            images.append(child)
    else:
        images = [parsed]
    pusher = Pusher(client)
    tasks = []
    for target in targets:
        seen: set[str] = set()
        for image in images:
            for desc in (image.config, *image.layers):
                if desc.digest in seen or desc.urls:
                    continue  # foreign layers stay where their URLs point
                seen.add(desc.digest)
                tasks.append(lambda t=target, d=desc: pusher.blob_from_store(t, reader.store, d))
    run_all(tasks)
    digests = push_manifests(targets, top, children)
    return CopyResult(
        digest=top.digest,
        media_type=top.media_type,
        destinations=[str(d) for d in destinations],
        pull_specs=[str(t.location.with_digest(d)) for t, d in zip(targets, digests, strict=True)],
        blobs=dict(pusher.counts),
    )
