"""POST payload rules per request type, with IIB's exact error strings.

Each ``validate_<type>`` takes the decoded JSON body and returns a ``NewRequest``: the fields to store
(response shape), the parameters for the executor, and the secrets, which go to the executor only
and are never stored or echoed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from status_api.errors import Forbidden, ValidationError
from status_api.request_types import default_fields
from status_api.settings import Settings

SECRET_KEYS = ("overwrite_from_index_token", "overwrite_target_index_token", "cnr_token", "registry_auths")


@dataclass
class NewRequest:
    """A validated request, ready to be stored and handed to an executor."""

    request_type: str
    fields: dict[str, Any]
    params: dict[str, Any]
    secrets: dict[str, Any] = field(default_factory=dict)
    internal: dict[str, Any] = field(default_factory=dict)

    @property
    def from_index(self) -> str | None:
        return self.fields.get("from_index")

    @property
    def index_image(self) -> str | None:
        return self.fields.get("index_image")


@dataclass
class Context:
    """What validation needs besides the payload: the settings and whether a user is logged in."""

    settings: Settings
    authenticated: bool


def check_pull_spec(pull_spec: str) -> str:
    """Every stored image needs a tag or a digest (``scratch`` excepted)."""
    if "@" not in pull_spec and ":" not in pull_spec and pull_spec != "scratch":
        raise ValidationError(f"Image {pull_spec} should have a tag or a digest specified.")
    return pull_spec


def require_object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise ValidationError("The input data must be a JSON object")
    return payload


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(item and isinstance(item, str) for item in value)


def validate_request_params(payload: dict[str, Any], required: set[str], optional: set[str]) -> None:
    """IIB's generic check: required present and set, nothing unknown, empty optionals dropped."""
    missing = required - payload.keys()
    if missing:
        raise ValidationError("Missing required parameter(s): {}".format(", ".join(sorted(missing))))
    invalid = payload.keys() - required - optional
    if invalid:
        raise ValidationError("The following parameters are invalid: {}".format(", ".join(sorted(invalid))))
    for param in sorted(required):
        if not payload.get(param):
            raise ValidationError(f'"{param}" must be set')
    for param in optional:
        if param in payload and not isinstance(payload[param], bool) and not payload[param]:
            del payload[param]


def validate_architectures(arches: Any) -> list[str]:
    if not isinstance(arches, list) or any(not arch or not isinstance(arch, str) for arch in arches):
        raise ValidationError("Architectures should be specified as a non-empty array of strings")
    return arches


def validate_graph_mode(settings: Settings, mode: Any, index_image: Any) -> None:
    if not mode:
        return
    options = settings.IIB_GRAPH_MODE_OPTIONS
    if mode not in options:
        raise ValidationError(f'"graph_update_mode" must be set to one of these: {options}')
    allowed = settings.IIB_GRAPH_MODE_INDEX_ALLOW_LIST
    if index_image not in allowed and (
        not isinstance(index_image, str) or index_image.split(":")[0] not in allowed
    ):
        raise Forbidden(f'"graph_update_mode" can only be used on the following index image: {allowed}')


def validate_registry_auths(registry_auths: Any) -> None:
    if not isinstance(registry_auths, dict):
        raise ValidationError('"registry_auths" must be a dict')
    if list(registry_auths.keys()) != ["auths"]:
        raise ValidationError('"registry_auths" must contain single key "auths"')
    if not registry_auths["auths"] or not isinstance(registry_auths["auths"], dict):
        raise ValidationError('"registry_auths.auths" must be a non-empty dict')
    for registry, auth in registry_auths["auths"].items():
        if (
            not isinstance(auth, dict)
            or len(auth) != 1
            or not all(k == "auth" and isinstance(v, str) for k, v in auth.items())
        ):
            raise ValidationError(
                f"{registry} in registry_auths has auth value in incorrect format. "
                "See the API docs for details on the expected format"
            )


def _validate_binary_image(settings: Settings, binary_image: Any) -> str | None:
    if binary_image is not None and not isinstance(binary_image, str):
        raise ValidationError('The "binary_image" value must be a string')
    if not binary_image and not settings.IIB_BINARY_IMAGE_CONFIG:
        raise ValidationError('The "binary_image" value must be a non-empty string')
    return check_pull_spec(binary_image) if binary_image else None


def _validate_distribution_scope(scope: Any) -> str | None:
    if not scope:
        return None
    if not isinstance(scope, str) or scope.lower() not in ("prod", "stage", "dev"):
        raise ValidationError('The "distribution_scope" value must be one of "dev", "stage", or "prod"')
    return scope.lower()


def _validate_build_tags(tags: Any) -> list[str]:
    if tags is None:
        return []
    if not _is_str_list(tags):
        raise ValidationError('"build_tags" should be either an empty array or an array of non-empty strings')
    return list(dict.fromkeys(tags))


def _index_common(
    ctx: Context,
    kwargs: dict[str, Any],
    required: list[str] | None = None,
    optional: list[str] | None = None,
) -> NewRequest:
    """The shared index-image rules (IIB's ``RequestIndexImageMixin._from_json``)."""
    optional_params = {
        "add_arches",
        "binary_image",
        "overwrite_from_index",
        "overwrite_from_index_token",
        "distribution_scope",
        "build_tags",
        "output_fbc",
    } | set(optional or [])
    validate_request_params(kwargs, set(required or []), optional_params)
    if not kwargs.get("from_index") and not kwargs.get("add_arches"):
        raise ValidationError('One of "from_index" or "add_arches" must be specified')
    overwrite = kwargs.pop("overwrite_from_index", False)
    if not isinstance(overwrite, bool):
        raise ValidationError('The "overwrite_from_index" parameter must be a boolean')
    token = kwargs.pop("overwrite_from_index_token", None)
    if token:
        if not isinstance(token, str):
            raise ValidationError('The "overwrite_from_index_token" parameter must be a string')
        if not overwrite:
            raise ValidationError(
                'The "overwrite_from_index" parameter is required when'
                ' the "overwrite_from_index_token" parameter is used'
            )
    scope = _validate_distribution_scope(kwargs.pop("distribution_scope", None))
    if ctx.authenticated and overwrite and not token:
        raise Forbidden('You must set "overwrite_from_index_token" to use "overwrite_from_index"')
    add_arches = validate_architectures(kwargs.pop("add_arches", []))
    binary_image = _validate_binary_image(ctx.settings, kwargs.pop("binary_image", None))
    from_index = kwargs.get("from_index")
    if "from_index" in kwargs:
        if not isinstance(from_index, str):
            raise ValidationError('"from_index" must be a string')
        check_pull_spec(from_index)
    build_tags = _validate_build_tags(kwargs.pop("build_tags", None))
    request = NewRequest(request_type="", fields={}, params={})
    request.fields.update(
        binary_image=binary_image, distribution_scope=scope, from_index=from_index, build_tags=build_tags
    )
    request.params.update(
        add_arches=add_arches,
        binary_image=binary_image,
        overwrite_from_index=overwrite,
        distribution_scope=scope,
        from_index=from_index,
        build_tags=build_tags,
    )
    if token:
        request.secrets["overwrite_from_index_token"] = token
    return request


def _finish(request: NewRequest, request_type: str) -> NewRequest:
    request.request_type = request_type
    fields = default_fields(request_type)
    for key, value in request.fields.items():
        if key in fields:
            fields[key] = value
    request.fields = fields
    return request


def validate_add(ctx: Context, payload: Any) -> NewRequest:
    kwargs = copy.deepcopy(require_object(payload))
    if isinstance(kwargs.get("bundles"), list) and all(isinstance(b, str) for b in kwargs["bundles"]):
        kwargs["bundles"] = list(dict.fromkeys(kwargs["bundles"]))
    for key in ("bundles", "deprecation_list"):
        value = kwargs.get(key, [])
        if value is None:
            value = []
        if not isinstance(value, list) or any(not item or not isinstance(item, str) for item in value):
            raise ValidationError(f'"{key}" should be either an empty array or an array of non-empty strings')
    if not (kwargs.get("bundles") or kwargs.get("from_index")):
        raise ValidationError('"from_index" must be specified if no bundles are specified')
    if kwargs.get("check_related_images") and not kwargs.get("bundles"):
        raise ValidationError('"check_related_images" must be specified only when bundles are specified')
    check_related_images = kwargs.get("check_related_images", False)
    if check_related_images is not None and not isinstance(check_related_images, bool):
        raise ValidationError('The "check_related_images" parameter must be a boolean')
    for param in ("cnr_token", "graph_update_mode", "organization"):
        if param in kwargs and kwargs[param] is not None:
            if not isinstance(kwargs[param], str):
                raise ValidationError(f'"{param}" must be a string')
            if param == "graph_update_mode":
                validate_graph_mode(ctx.settings, kwargs[param], kwargs.get("from_index"))
    if not isinstance(kwargs.get("force_backport", False), bool | None):
        raise ValidationError('"force_backport" must be a boolean')
    cnr_token = kwargs.pop("cnr_token", None)
    kwargs.pop("force_backport", None)
    if kwargs.get("output_fbc") is not None:
        raise ValidationError("The following parameters are invalid: output_fbc")
    request = _index_common(
        ctx,
        kwargs,
        optional=[
            "from_index",
            "organization",
            "bundles",
            "deprecation_list",
            "graph_update_mode",
            "check_related_images",
        ],
    )
    bundles = [check_pull_spec(b) for b in kwargs.get("bundles", [])]
    deprecation_list = sorted({check_pull_spec(b) for b in kwargs.get("deprecation_list", [])})
    request.fields.update(
        bundles=bundles,
        deprecation_list=deprecation_list,
        organization=kwargs.get("organization"),
        graph_update_mode=kwargs.get("graph_update_mode"),
        check_related_images=kwargs.get("check_related_images"),
    )
    request.params.update(
        bundles=bundles,
        deprecation_list=deprecation_list,
        organization=kwargs.get("organization"),
        graph_update_mode=kwargs.get("graph_update_mode"),
        check_related_images=bool(kwargs.get("check_related_images")),
    )
    if cnr_token:
        request.secrets["cnr_token"] = cnr_token
    return _finish(request, "add")


def validate_rm(ctx: Context, payload: Any) -> NewRequest:
    kwargs = copy.deepcopy(require_object(payload))
    operators = kwargs.get("operators", [])
    if not isinstance(operators, list) or not operators or not _is_str_list(operators):
        raise ValidationError('"operators" should be a non-empty array of strings')
    if kwargs.get("output_fbc") is not None:
        raise ValidationError("The following parameters are invalid: output_fbc")
    request = _index_common(ctx, kwargs, required=["operators", "from_index"])
    operators = list(dict.fromkeys(operators))
    request.fields["removed_operators"] = operators
    request.params["operators"] = operators
    return _finish(request, "rm")


def validate_fbc_operations(ctx: Context, payload: Any) -> NewRequest:
    kwargs = copy.deepcopy(require_object(payload))
    fragment = kwargs.get("fbc_fragment")
    fragments = kwargs.get("fbc_fragments")
    if fragment is not None and fragments is not None:
        raise ValidationError('Cannot provide both "fbc_fragment" and "fbc_fragments" parameters')
    if isinstance(fragment, str):
        kwargs["fbc_fragments"] = [fragment]
        kwargs.pop("fbc_fragment")
        legacy = True
    elif fragment is not None:
        raise ValidationError('"fbc_fragment" must be a string')
    elif fragments is None:
        raise ValidationError('Either "fbc_fragment" or "fbc_fragments" must be provided')
    else:
        legacy = False
    validate_request_params(
        kwargs,
        {"fbc_fragments", "from_index"},
        {
            "add_arches",
            "binary_image",
            "distribution_scope",
            "build_tags",
            "overwrite_from_index",
            "overwrite_from_index_token",
        },
    )
    fragments = kwargs.get("fbc_fragments", [])
    if not _is_str_list(fragments):
        raise ValidationError(
            '"fbc_fragments" should be either an empty array or an array of non-empty strings'
        )
    request = _index_common(ctx, kwargs, optional=["fbc_fragments", "from_index"])
    fragments = [check_pull_spec(f) for f in fragments]
    if legacy:
        request.fields["fbc_fragment"] = fragments[0]
    else:
        request.fields["fbc_fragments"] = fragments
    request.internal["used_fbc_fragment"] = legacy
    request.params["fbc_fragments"] = fragments
    return _finish(request, "fbc-operations")


def validate_create_empty_index(ctx: Context, payload: Any) -> NewRequest:
    kwargs = copy.deepcopy(require_object(payload))
    if kwargs.get("from_index") is None:
        raise ValidationError('"from_index" must be specified')
    if not isinstance(kwargs.get("from_index"), str) or not kwargs["from_index"]:
        raise ValidationError('"from_index" must be a non-empty string')
    if kwargs.get("output_fbc") and not isinstance(kwargs.get("output_fbc"), bool):
        raise ValidationError('"output_fbc" should be boolean')
    labels = kwargs.get("labels")
    if labels is not None:
        if not isinstance(labels, dict):
            raise ValidationError('The value of "labels" must be a JSON object')
        for key, value in labels.items():
            if not isinstance(value, str) or not isinstance(key, str):
                raise ValidationError(f'The key and value of "{key}" must be a string')
    for arg in ("add_arches", "overwrite_from_index", "overwrite_from_index_token", "build_tags"):
        if arg in kwargs:
            raise ValidationError(f'The "{arg}" arg is invalid for the create-empty-index endpoint.')
    output_fbc = bool(kwargs.get("output_fbc"))
    request = _index_common(ctx, kwargs, required=["from_index"], optional=["labels"])
    request.fields["labels"] = kwargs.get("labels")
    request.params.update(labels=kwargs.get("labels") or {}, output_fbc=output_fbc)
    for key in ("add_arches", "overwrite_from_index", "build_tags"):
        request.params.pop(key, None)
    return _finish(request, "create-empty-index")


def validate_add_deprecations(ctx: Context, payload: Any) -> NewRequest:
    kwargs = copy.deepcopy(require_object(payload))
    package = kwargs.get("operator_package")
    if not package or not isinstance(package, str):
        raise ValidationError('"operator_package" should be a non-empty string')
    schema = kwargs.get("deprecation_schema")
    if not schema or not isinstance(schema, str):
        raise ValidationError('"deprecation_schema" should be a non-empty string')
    try:
        json.loads(schema)
    except ValueError:
        raise ValidationError('"deprecation_schema" string should be valid JSON') from None
    if kwargs.get("output_fbc") is not None:
        raise ValidationError("The following parameters are invalid: output_fbc")
    request = _index_common(ctx, kwargs, required=["deprecation_schema", "from_index", "operator_package"])
    request.fields["operator_package"] = package
    request.internal["deprecation_schema"] = schema
    request.params.update(operator_package=package, deprecation_schema=schema)
    return _finish(request, "add-deprecations")


def validate_regenerate_bundle(ctx: Context, payload: Any) -> NewRequest:
    kwargs = copy.deepcopy(require_object(payload))
    validate_request_params(
        kwargs, {"from_bundle_image"}, {"bundle_replacements", "organization", "registry_auths"}
    )
    replacements = kwargs.get("bundle_replacements", {})
    if replacements:
        if not isinstance(replacements, dict):
            raise ValidationError('The value of "bundle_replacements" must be a JSON object')
        for key, value in replacements.items():
            if not isinstance(value, str) or not isinstance(key, str):
                raise ValidationError(f'The key and value of "{key}" must be a string')
    return _bundle_image_request(
        kwargs, "from_bundle_image", "regenerate-bundle", {"bundle_replacements": replacements or {}}
    )


def validate_recursive_related_bundles(ctx: Context, payload: Any) -> NewRequest:
    kwargs = copy.deepcopy(require_object(payload))
    validate_request_params(kwargs, {"parent_bundle_image"}, {"organization", "registry_auths"})
    return _bundle_image_request(kwargs, "parent_bundle_image", "recursive-related-bundles", {})


def _bundle_image_request(
    kwargs: dict[str, Any], image_param: str, request_type: str, extra: dict[str, Any]
) -> NewRequest:
    """The checks and request shared by the requests about one bundle image: ``organization``,
    the image's pull spec and ``registry_auths`` (kept as a secret, never a field)."""
    organization = kwargs.get("organization")
    if organization and not isinstance(organization, str):
        raise ValidationError('"organization" must be a string')
    image = kwargs.get(image_param)
    if not isinstance(image, str):
        raise ValidationError(f'"{image_param}" must be a string')
    registry_auths = kwargs.pop("registry_auths", None)
    if registry_auths:
        validate_registry_auths(registry_auths)
    check_pull_spec(image)
    fields = {image_param: image, "organization": organization, **extra}
    request = NewRequest(request_type="", fields=fields, params=dict(fields))
    if registry_auths:
        request.secrets["registry_auths"] = registry_auths
    return _finish(request, request_type)


_MERGE_KEYS = {
    "source_from_index",
    "target_index",
    "deprecation_list",
    "binary_image",
    "overwrite_target_index",
    "overwrite_target_index_token",
    "distribution_scope",
    "build_tags",
    "graph_update_mode",
    "ignore_bundle_ocp_version",
}


def validate_merge_index_image(ctx: Context, payload: Any) -> NewRequest:
    kwargs = copy.deepcopy(require_object(payload))
    unknown = kwargs.keys() - _MERGE_KEYS
    if unknown:
        raise ValidationError("The following parameters are invalid: {}".format(", ".join(sorted(unknown))))
    deprecation_list = kwargs.pop("deprecation_list", None) or []
    if not _is_str_list(deprecation_list):
        raise ValidationError('The "deprecation_list" value should be an empty array or an array of strings')
    source = kwargs.get("source_from_index")
    if not (isinstance(source, str) and source):
        raise ValidationError('The "source_from_index" value must be a string')
    check_pull_spec(source)
    mode = kwargs.get("graph_update_mode")
    if mode is not None and not isinstance(mode, str):
        raise ValidationError('"graph_update_mode" must be a string')
    validate_graph_mode(ctx.settings, mode, kwargs.get("target_index"))
    target = kwargs.pop("target_index", None)
    if target:
        if not isinstance(target, str):
            raise ValidationError('The "target_index" value must be a string')
        check_pull_spec(target)
    overwrite = kwargs.pop("overwrite_target_index", False)
    if overwrite is None:
        overwrite = False
    if not isinstance(overwrite, bool):
        raise ValidationError('The "overwrite_target_index" value must be a boolean')
    token = kwargs.pop("overwrite_target_index_token", None)
    if token:
        if not isinstance(token, str):
            raise ValidationError('The "overwrite_target_index_token" value must be a string')
        if not overwrite:
            raise ValidationError(
                'The "overwrite_target_index" value is required when'
                ' the "overwrite_target_index_token" value is used'
            )
    elif overwrite:
        raise ValidationError(
            'The "overwrite_target_index_token" value is required when'
            ' the "overwrite_target_index" value is set'
        )
    binary_image = _validate_binary_image(ctx.settings, kwargs.pop("binary_image", None))
    scope = _validate_distribution_scope(kwargs.pop("distribution_scope", None))
    build_tags = _validate_build_tags(kwargs.get("build_tags"))
    ignore = kwargs.get("ignore_bundle_ocp_version")
    if ignore is not None and not isinstance(ignore, bool):
        raise ValidationError('The "ignore_bundle_ocp_version" value must be a boolean')
    deprecation_list = [check_pull_spec(item) for item in deprecation_list]
    fields = {
        "source_from_index": source,
        "target_index": target or None,
        "deprecation_list": deprecation_list,
        "binary_image": binary_image,
        "distribution_scope": scope,
        "build_tags": build_tags,
        "graph_update_mode": mode or None,
        "ignore_bundle_ocp_version": ignore,
    }
    request = NewRequest(
        request_type="",
        fields=fields,
        params={**fields, "overwrite_target_index": overwrite, "ignore_bundle_ocp_version": bool(ignore)},
    )
    if token:
        request.secrets["overwrite_target_index_token"] = token
    return _finish(request, "merge-index-image")


VALIDATORS: dict[str, Callable[[Context, Any], NewRequest]] = {
    "add": validate_add,
    "rm": validate_rm,
    "regenerate-bundle": validate_regenerate_bundle,
    "merge-index-image": validate_merge_index_image,
    "create-empty-index": validate_create_empty_index,
    "recursive-related-bundles": validate_recursive_related_bundles,
    "fbc-operations": validate_fbc_operations,
    "add-deprecations": validate_add_deprecations,
}


def validate_batch(payload: Any) -> tuple[list[Any], dict[str, Any] | None]:
    """The batch envelope: a non-empty ``build_requests`` list and optional ``annotations`` object."""
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("build_requests"), list)
        or not payload["build_requests"]
    ):
        raise ValidationError(
            'The input data must be a JSON object and the "build_requests" value must be a non-empty array'
        )
    annotations = payload.get("annotations")
    if annotations is not None and not isinstance(annotations, dict):
        raise ValidationError('The value of "annotations" must be a JSON object')
    unknown = payload.keys() - {"build_requests", "annotations"}
    if unknown:
        raise ValidationError("The following parameters are invalid: {}".format(", ".join(sorted(unknown))))
    return payload["build_requests"], annotations


def _in_batch(index: int, error: ValidationError) -> ValidationError:
    return ValidationError(
        f"{error.message.rstrip('.')}. This occurred on the build request in index {index}."
    )


def validate_add_rm_batch(ctx: Context, payload: Any) -> tuple[list[NewRequest], dict[str, Any] | None]:
    items, annotations = validate_batch(payload)
    requests = []
    for index, item in enumerate(items):
        try:
            if isinstance(item, dict) and item.get("operators"):
                requests.append(validate_rm(ctx, item))
            elif isinstance(item, dict) and item.get("bundles"):
                requests.append(validate_add(ctx, item))
            else:
                raise ValidationError("Build request is not a valid Add/Rm request.")
        except ValidationError as exc:
            raise _in_batch(index, exc) from None
    return requests, annotations


def validate_regenerate_bundle_batch(
    ctx: Context, payload: Any
) -> tuple[list[NewRequest], dict[str, Any] | None]:
    items, annotations = validate_batch(payload)
    requests = []
    for index, item in enumerate(items):
        try:
            requests.append(validate_regenerate_bundle(ctx, item))
        except ValidationError as exc:
            raise _in_batch(index, exc) from None
    return requests, annotations
