"""Request types, states, and per type: the response keys with their defaults and the PATCH-able keys."""

from __future__ import annotations

import copy
from typing import Any

TYPES: dict[str, int] = {
    "generic": 0,
    "add": 1,
    "rm": 2,
    "regenerate-bundle": 3,
    "merge-index-image": 4,
    "create-empty-index": 5,
    "recursive-related-bundles": 6,
    "fbc-operations": 7,
    "add-deprecations": 8,
}
TYPE_NAMES: dict[int, str] = {number: name for name, number in TYPES.items()}

STATES: dict[str, int] = {"in_progress": 1, "complete": 2, "failed": 3}
STATE_NAMES: dict[int, str] = {number: name for name, number in STATES.items()}
FINAL_STATES = frozenset({"complete", "failed"})

INITIAL_REASON = "The request was initiated"

_INDEX_COMMON: dict[str, Any] = {
    "binary_image": None,
    "binary_image_resolved": None,
    "build_tags": [],
    "distribution_scope": None,
    "from_index": None,
    "from_index_resolved": None,
    "index_image": None,
    "index_image_resolved": None,
    "internal_index_image_copy": None,
    "internal_index_image_copy_resolved": None,
}
_ADD_RM_COMMON: dict[str, Any] = {
    **_INDEX_COMMON,
    "bundle_mapping": {},
    "bundles": [],
    "deprecation_list": [],
    "organization": None,
    "removed_operators": [],
}

# The stored fields of each type, in response form, with the defaults of a new request.
FIELDS: dict[str, dict[str, Any]] = {
    "generic": {},
    "add": {
        **_ADD_RM_COMMON,
        "omps_operator_version": {},
        "graph_update_mode": None,
        "check_related_images": None,
    },
    "rm": dict(_ADD_RM_COMMON),
    "fbc-operations": {
        **_INDEX_COMMON,
        "fbc_fragment": None,
        "fbc_fragment_resolved": None,
        "fbc_fragments": [],
        "fbc_fragments_resolved": [],
    },
    "create-empty-index": {
        "binary_image": None,
        "binary_image_resolved": None,
        "distribution_scope": None,
        "from_index": None,
        "from_index_resolved": None,
        "index_image": None,
        "index_image_resolved": None,
        "labels": None,
    },
    "add-deprecations": {**_INDEX_COMMON, "operator_package": None},
    "regenerate-bundle": {
        "bundle_image": None,
        "bundle_replacements": {},
        "from_bundle_image": None,
        "from_bundle_image_resolved": None,
        "organization": None,
    },
    "merge-index-image": {
        "binary_image": None,
        "binary_image_resolved": None,
        "build_tags": [],
        "deprecation_list": [],
        "distribution_scope": None,
        "graph_update_mode": None,
        "ignore_bundle_ocp_version": None,
        "index_image": None,
        "source_from_index": None,
        "source_from_index_resolved": None,
        "target_index": None,
        "target_index_resolved": None,
    },
    "recursive-related-bundles": {
        "organization": None,
        "parent_bundle_image": None,
        "parent_bundle_image_resolved": None,
    },
}
del FIELDS["add-deprecations"]["distribution_scope"]

_BASE_MUTABLE = {"arches", "state", "state_reason"}
_INDEX_MUTABLE = {
    "binary_image",
    "binary_image_resolved",
    "distribution_scope",
    "from_index_resolved",
    "index_image",
    "index_image_resolved",
    "internal_index_image_copy",
    "internal_index_image_copy_resolved",
}

# The keys a worker may PATCH, per type.
MUTABLE: dict[str, frozenset[str]] = {
    "generic": frozenset(_BASE_MUTABLE),
    "add": frozenset(_BASE_MUTABLE | _INDEX_MUTABLE | {"bundles", "bundle_mapping", "omps_operator_version"}),
    "rm": frozenset(_BASE_MUTABLE | _INDEX_MUTABLE),
    "fbc-operations": frozenset(
        _BASE_MUTABLE
        | _INDEX_MUTABLE
        | {"fbc_fragment", "fbc_fragment_resolved", "fbc_fragments", "fbc_fragments_resolved"}
    ),
    "create-empty-index": frozenset(
        _BASE_MUTABLE | _INDEX_MUTABLE - {"internal_index_image_copy", "internal_index_image_copy_resolved"}
    ),
    "add-deprecations": frozenset(_BASE_MUTABLE | (_INDEX_MUTABLE - {"distribution_scope"})),
    "regenerate-bundle": frozenset(
        _BASE_MUTABLE | {"bundle_image", "from_bundle_image_resolved", "bundle_replacements"}
    ),
    "merge-index-image": frozenset(
        _BASE_MUTABLE
        | {
            "binary_image",
            "binary_image_resolved",
            "distribution_scope",
            "index_image",
            "source_from_index_resolved",
            "target_index_resolved",
        }
    ),
    "recursive-related-bundles": frozenset(_BASE_MUTABLE | {"parent_bundle_image_resolved"}),
}

# PATCH keys whose value is a single pull spec.
IMAGE_KEYS = frozenset(
    {
        "binary_image",
        "binary_image_resolved",
        "bundle_image",
        "from_bundle_image_resolved",
        "from_index_resolved",
        "fbc_fragment",
        "fbc_fragment_resolved",
        "index_image",
        "index_image_resolved",
        "internal_index_image_copy",
        "internal_index_image_copy_resolved",
        "parent_bundle_image_resolved",
        "source_from_index_resolved",
        "target_index_resolved",
    }
)

# Types whose from_index / index_image the list filters match.
FROM_INDEX_TYPES = frozenset({"add", "rm", "fbc-operations", "create-empty-index", "add-deprecations"})
INDEX_IMAGE_TYPES = FROM_INDEX_TYPES | {"merge-index-image"}

# What a successful run says, per type (IIB's texts where it has one).
SUCCESS_REASONS: dict[str, str] = {
    "add": "The operator bundle(s) were successfully added to the index image",
    "rm": "The operator(s) were successfully removed from the index image",
    "regenerate-bundle": "The request completed successfully",
    "merge-index-image": "The index image was successfully cleaned and updated.",
    "create-empty-index": "The empty index image was successfully created",
    "recursive-related-bundles": "The request completed successfully",
    "fbc-operations": "The FBC fragment was successfully added in the index image",
    "add-deprecations": "The deprecation schema was successfully added to the index image",
    "generic": "The request completed successfully",
}


def default_fields(request_type: str) -> dict[str, Any]:
    """A fresh copy of the stored fields of a new request of ``request_type``."""
    return copy.deepcopy(FIELDS[request_type])
