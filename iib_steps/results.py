"""Tekton results and the IIB request JSON a step leaves behind (spec/tekton.md §1.3, spec/iib.md §2.5).

Tekton results travel in the container's termination message: 4096 bytes for all results of a TaskRun
together, less Tekton's own bookkeeping. :func:`write_results` therefore checks the total against a
budget (3500 bytes by default) *before* writing anything, and writes values exactly (no trailing
newline: Tekton does not trim). Lists and dicts are written as compact JSON, as Tekton expects of
array and object results.

:func:`request_json` gives every key of IIB's request JSON for a request type, with IIB's null or
empty defaults for what the step did not fill.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from iib_steps.errors import StepError

RESULTS_BUDGET = 3500

_INDEX_COMMON = (
    "binary_image",
    "binary_image_resolved",
    "build_tags",
    "distribution_scope",
    "from_index",
    "from_index_resolved",
    "index_image",
    "index_image_resolved",
    "internal_index_image_copy",
    "internal_index_image_copy_resolved",
)

# The type-specific keys of IIB's Request.to_json, per request type (spec/iib.md §2.5).
REQUEST_KEYS: dict[str, tuple[str, ...]] = {
    "add": (
        *_INDEX_COMMON,
        "bundle_mapping",
        "bundles",
        "check_related_images",
        "deprecation_list",
        "graph_update_mode",
        "omps_operator_version",
        "organization",
        "removed_operators",
    ),
    "rm": (
        *_INDEX_COMMON,
        "bundle_mapping",
        "bundles",
        "deprecation_list",
        "organization",
        "removed_operators",
    ),
    "fbc-operations": (
        *_INDEX_COMMON,
        "fbc_fragment",
        "fbc_fragment_resolved",
        "fbc_fragments",
        "fbc_fragments_resolved",
    ),
    "create-empty-index": (
        "binary_image",
        "binary_image_resolved",
        "distribution_scope",
        "from_index",
        "from_index_resolved",
        "index_image",
        "index_image_resolved",
        "labels",
    ),
    "add-deprecations": (
        *(k for k in _INDEX_COMMON if k != "distribution_scope"),
        "deprecation_schema_url",
        "operator_package",
    ),
    "regenerate-bundle": (
        "bundle_image",
        "bundle_replacements",
        "from_bundle_image",
        "from_bundle_image_resolved",
        "organization",
        "related_bundles",
    ),
    "merge-index-image": (
        "binary_image",
        "binary_image_resolved",
        "build_tags",
        "deprecation_list",
        "distribution_scope",
        "graph_update_mode",
        "ignore_bundle_ocp_version",
        "index_image",
        "source_from_index",
        "source_from_index_resolved",
        "target_index",
        "target_index_resolved",
    ),
    "recursive-related-bundles": (
        "nested_bundles",
        "organization",
        "parent_bundle_image",
        "parent_bundle_image_resolved",
    ),
}

_LIST_KEYS = {
    "arches",
    "build_tags",
    "bundles",
    "deprecation_list",
    "removed_operators",
    "fbc_fragments",
    "fbc_fragments_resolved",
}
_DICT_KEYS = {"bundle_mapping", "omps_operator_version", "bundle_replacements", "labels"}


def request_json(
    request_type: str, fields: dict[str, Any], request_id: int | str | None = None
) -> dict[str, Any]:
    """IIB's request JSON for ``request_type``: every base and type key, filled from ``fields``."""
    if request_type not in REQUEST_KEYS:
        raise StepError(f"unknown request type {request_type!r}; known: {', '.join(REQUEST_KEYS)}")
    rid: Any = request_id
    if isinstance(request_id, str) and request_id.isdigit():
        rid = int(request_id)
    out: dict[str, Any] = {
        "id": rid,
        "arches": sorted(fields.get("arches") or []),
        "batch": fields.get("batch"),
        "request_type": request_type,
        "state": fields.get("state", "in_progress"),
        "state_reason": fields.get("state_reason"),
        "user": fields.get("user"),
    }
    for key in REQUEST_KEYS[request_type]:
        if key in _LIST_KEYS:
            default: Any = []
        elif key in _DICT_KEYS:
            default = {}
        else:
            default = None
        value = fields.get(key)
        out[key] = default if value is None else value
    if request_type == "fbc-operations" and fields.get("used_fbc_fragment"):
        out["fbc_fragments"] = []
        out["fbc_fragments_resolved"] = []
    return dict(sorted(out.items()))


def encode_result(value: Any) -> bytes:
    """The bytes Tekton reads for a result: strings verbatim, everything else compact JSON."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return orjson.dumps(value)


def write_results(
    paths: dict[str, str | os.PathLike[str] | None], values: dict[str, Any], *, budget: int = RESULTS_BUDGET
) -> dict[str, Path]:
    """Write ``values[name]`` to ``paths[name]`` for every result a path was given for.

    Results without a path are skipped; a path without a value is written empty. Nothing is written
    when the results together exceed ``budget`` bytes (Tekton would truncate the termination message).
    """
    chosen = {name: Path(path) for name, path in paths.items() if path}
    encoded = {name: encode_result(values.get(name, "")) for name in chosen}
    total = sum(len(v) for v in encoded.values())
    if total > budget:
        biggest = max(encoded, key=lambda n: len(encoded[n]))
        raise StepError(
            f"the Tekton results total {total} bytes, over the {budget}-byte budget "
            f"(the largest is {biggest!r}, {len(encoded[biggest])} bytes); read it from the request JSON file"
        )
    for name, path in chosen.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encoded[name])
    return chosen


def write_json_file(path: str | os.PathLike[str], data: Any) -> Path:
    """Write ``data`` as indented JSON with sorted keys (the request JSON file, related-bundles files)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    return out
