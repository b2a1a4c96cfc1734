"""Reading one Tekton object out of a bundle image (tkn's format: one layer per object, found by
its ``dev.tekton.image.kind``/``name`` annotations, holding a tar with the object as JSON)."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from typing import Any

from iib_steps.errors import StepError
from iib_steps.tekton.runner.errors import RunError

KIND = "dev.tekton.image.kind"
NAME = "dev.tekton.image.name"


def read_bundle_object(bundle: str, kind: str, name: str) -> dict[str, Any]:
    """The ``kind``/``name`` object of ``bundle`` (a registry reference or ``oci:PATH[:TAG]``)."""
    from iib_steps.images.inspect import ImageReader

    try:
        image = ImageReader(bundle).default_arch_image()
        for layer in image.parsed.layers:
            notes = dict(layer.annotations or {})
            if notes.get(KIND, "").lower() == kind.lower() and notes.get(NAME) == name:
                data = ImageReader(bundle).store.read_blob(layer.digest)
                return _decode_layer(data, bundle)
    except StepError as exc:
        raise RunError(f"cannot read the bundle {bundle}: {exc}", "CouldntGetTask") from None
    raise RunError(f"the bundle {bundle} holds no {kind} named {name}", "CouldntGetTask")


def _decode_layer(data: bytes, bundle: str) -> dict[str, Any]:
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    content = data
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            member = next((m for m in tar if m.isfile()), None)
            if member is not None:
                fh = tar.extractfile(member)
                content = fh.read() if fh else b""
    except tarfile.TarError:
        pass  # not a tar: the layer is the object itself
    try:
        obj = json.loads(content)
    except ValueError:
        raise RunError(
            f"a layer of the bundle {bundle} is not a JSON Tekton object", "CouldntGetTask"
        ) from None
    if not isinstance(obj, dict):
        raise RunError(f"a layer of the bundle {bundle} is not a Tekton object", "CouldntGetTask")
    return obj
