"""IIB's decisions before a build, as pure functions (spec/iib.md §4.0 step 3, §2.4, §2.5).

Nothing here touches a registry: the image facts (digests, arches, labels) are read by the caller
(:mod:`iib_steps.operations.common`) and passed in, so that every rule is testable from a table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from iib_steps.errors import StepError

LABEL_OCP_VERSION = "com.redhat.index.delivery.version"
LABEL_SCOPE = "com.redhat.index.delivery.distribution_scope"
LABEL_PACKAGE = "operators.operatorframework.io.bundle.package.v1"
LABEL_CHANNELS = "operators.operatorframework.io.bundle.channels.v1"
LABEL_MANIFESTS = "operators.operatorframework.io.bundle.manifests.v1"
LABEL_CONFIGS = "operators.operatorframework.io.index.configs.v1"
LABEL_DATABASE = "operators.operatorframework.io.index.database.v1"
LABEL_PINNED = "com.redhat.iib.pinned"
LABEL_IS_BUNDLE = "com.redhat.delivery.operator.bundle"
LABEL_OCP_VERSIONS = "com.redhat.openshift.versions"

DEFAULT_OCP_VERSION = "v4.5"
DEFAULT_TARGET_OCP_VERSION = "v4.6"
DEFAULT_SCOPE = "prod"
SCOPES_WIDEST_FIRST = ("prod", "stage", "dev")
BINARYLESS = "scratch"
GRAPH_UPDATE_MODES = ("replaces", "semver", "semver-skippatch")


@dataclass(slots=True)
class IndexFacts:
    """What a step learns about an index image before building (IIB's ``IndexImageInfo``)."""

    pull_spec: str | None = None
    resolved: str | None = None
    arches: set[str] = field(default_factory=set)
    ocp_version: str = DEFAULT_OCP_VERSION
    distribution_scope: str = DEFAULT_SCOPE

    @classmethod
    def from_labels(
        cls,
        pull_spec: str,
        resolved: str,
        arches: Iterable[str],
        labels: Mapping[str, str],
        default_ocp_version: str = DEFAULT_OCP_VERSION,
    ) -> IndexFacts:
        return cls(
            pull_spec=pull_spec,
            resolved=resolved,
            arches=set(arches),
            ocp_version=labels.get(LABEL_OCP_VERSION) or default_ocp_version,
            distribution_scope=(labels.get(LABEL_SCOPE) or DEFAULT_SCOPE).lower(),
        )


def normalize_scope(value: str | None) -> str | None:
    """A requested distribution scope, lower-cased and checked (IIB's API rule)."""
    if value is None or value == "":
        return None
    scope = value.lower()
    if scope not in SCOPES_WIDEST_FIRST:
        raise StepError('The "distribution_scope" value must be one of "dev", "stage", or "prod"')
    return scope


def decide_scope(index_scope: str, requested: str | None) -> str:
    """The scope to build with: the index's, or a requested one no wider (prod → stage → dev only)."""
    requested = normalize_scope(requested)
    if requested is None:
        return index_scope
    index_rank = SCOPES_WIDEST_FIRST.index(index_scope) if index_scope in SCOPES_WIDEST_FIRST else 0
    if SCOPES_WIDEST_FIRST.index(requested) < index_rank:
        raise StepError(
            f'Cannot set "distribution_scope" to {requested} because from index is '
            f"already set to {index_scope}"
        )
    return requested


def decide_binary_image(
    requested: str | None,
    config: Mapping[str, Mapping[str, str]],
    scope: str,
    ocp_version: str,
) -> str:
    """The binary image: the request's, else the configured one for (scope, OCP version).

    ``scratch`` means binaryless; the request and the configuration must then agree. With no
    configuration at all (the embedded default), the request's value is taken as given.
    """
    configured = config.get(scope, {}).get(ocp_version)
    if not requested:
        if not configured:
            hint = (
                ""
                if config
                else (
                    " With no binary_image_config setting (steps settings file, IIB_STEPS_CONFIG), every"
                    " request names its binary image; or set e.g. binary_image_config:"
                    f" {{{scope}: {{{ocp_version}: scratch}}}} (scratch: a binaryless index)."
                )
            )
            raise StepError(
                f"IIB does not have a configured binary_image for distribution_scope : {scope} and "
                f"ocp_version: {ocp_version}. Please specify a binary_image value in the request.{hint}"
            )
        return configured
    if not config:
        return requested  # nothing configured: the request's binary image (or scratch) is taken as given
    if requested == BINARYLESS and configured != BINARYLESS:
        raise StepError(f"The index image should not be binaryless for {ocp_version}.")
    if requested != BINARYLESS and configured == BINARYLESS:
        raise StepError(f"The index image must be built as a binaryless for {ocp_version}.")
    return requested


def decide_arches(
    index_arches: Iterable[Iterable[str]],
    add_arches: Iterable[str] | None,
    binary_arches: Iterable[str] | None,
    *,
    binaryless: bool = False,
    subset_allowed: bool = False,
) -> list[str]:
    """The arches to build: every index's arches ∪ ``add_arches``, all present in the binary image.

    A binaryless build is amd64 only. ``subset_allowed`` (IIB's
    ``IIB_BINARY_IMAGE_LESS_ARCHES_ALLOWED_VERSIONS``) builds the arches the binary image has instead
    of failing.
    """
    if binaryless:
        return ["amd64"]
    wanted: set[str] = set(add_arches or [])
    for arches in index_arches:
        wanted |= set(arches)
    if not wanted:
        raise StepError("No arches were provided to build the index image")
    available = set(binary_arches or [])
    missing = wanted - available
    if missing:
        if subset_allowed and wanted & available:
            return sorted(wanted & available)
        raise StepError(
            f"The binary image is not available for the following arches: {', '.join(sorted(missing))}"
        )
    return sorted(wanted)


def bundle_mapping(bundle_labels: Mapping[str, Mapping[str, str]]) -> dict[str, list[str]]:
    """``{package: [bundle pull specs]}`` from each bundle's package label, in request order."""
    mapping: dict[str, list[str]] = {}
    for bundle, labels in bundle_labels.items():
        package = labels.get(LABEL_PACKAGE)
        if package:
            mapping.setdefault(package, []).append(bundle)
    return mapping


def check_required_labels(bundle: str, labels: Mapping[str, str], required: Mapping[str, str]) -> None:
    for label, value in required.items():
        if labels.get(label) != value:
            raise StepError(f"The bundle {bundle} does not have the label {label}={value}")


def unique(items: Iterable[str]) -> list[str]:
    """De-duplicate, keeping the first occurrence's order (IIB drops duplicate bundles silently)."""
    return list(dict.fromkeys(items))


def image_name(pull_spec: str) -> str:
    """The pull spec without its tag or digest (``host:5000/ns/repo:tag`` → ``host:5000/ns/repo``)."""
    name = pull_spec.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash and not (name.startswith("oci:") and colon == 3):
        name = name[:colon]
    return name


def catalog_pull_spec(resolved: str, layout_registry: str) -> str:
    """The pull spec a catalog records for an image: itself, or for an image in an OCI layout
    (``oci:/dir/repo@sha256:...``, not a pull spec a cluster can use) ``<layout_registry>/repo@...``."""
    if not resolved.startswith("oci:"):
        return resolved
    name, _, digest = resolved.partition("@")
    repo = name[len("oci:") :].rstrip("/").rsplit("/", 1)[-1].lower() or "image"
    return (
        f"{layout_registry.rstrip('/')}/{repo}@{digest}"
        if digest
        else f"{layout_registry.rstrip('/')}/{repo}"
    )


def layout_location(pull_spec: str, layout_registry: str, layout_root: str | None) -> str:
    """The inverse of :func:`catalog_pull_spec`: where a catalog's ``<layout_registry>/repo@digest``
    lives on disk (``oci:<layout_root>/repo@digest``); other pull specs are returned unchanged."""
    prefix = layout_registry.rstrip("/") + "/"
    if not layout_root or not pull_spec.startswith(prefix):
        return pull_spec
    return f"oci:{layout_root.rstrip('/')}/{pull_spec[len(prefix) :]}"


def with_digest(pull_spec: str, digest: str) -> str:
    return f"{image_name(pull_spec)}@{digest}"


def digest_of(pull_spec: str) -> str | None:
    return pull_spec.split("@", 1)[1] if "@" in pull_spec else None


def bundles_to_add(resolved: Iterable[str], present_images: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split resolved bundles into (to add, already present): present means the same *digest*,
    whatever repository the index lists it under."""
    present_digests = {d for d in (digest_of(p) for p in present_images) if d}
    add: list[str] = []
    skipped: list[str] = []
    for bundle in resolved:
        (skipped if digest_of(bundle) in present_digests else add).append(bundle)
    return add, skipped


def output_pull_spec(template: str, registry: str, tag: str | int) -> str:
    """IIB's push spec: ``template.format(registry=..., request_id=tag)``."""
    try:
        return template.format(registry=registry.rstrip("/"), request_id=tag)
    except (KeyError, IndexError, ValueError) as exc:
        raise StepError(f"the image push template {template!r} is invalid: {exc}") from None


def output_tags(request_id: str | int, build_tags: Iterable[str] | None) -> list[str]:
    """The tags the output manifest list is pushed under: the request id, then each build tag."""
    return unique([str(request_id), *(build_tags or [])])


def public_index_image(output: str, registry: str, output_registry: str | None) -> str:
    """``index_image`` as clients see it: IIB's registry replaced by ``index_image_output_registry``."""
    if output_registry and output.startswith(registry.rstrip("/")):
        return output_registry.rstrip("/") + output[len(registry.rstrip("/")) :]
    return output


@dataclass(slots=True, frozen=True)
class OverwriteToken:
    """``user:password`` for overwriting from_index; the password never prints."""

    user: str
    password: str = field(repr=False)

    def __str__(self) -> str:
        return f"{self.user}:*****"


def parse_overwrite(
    overwrite: bool, token: str | None, *, param: str = "overwrite_from_index"
) -> OverwriteToken | None:
    """Check the overwrite flag and its token as IIB's API does, and split the token."""
    if token is not None and not overwrite:
        raise StepError(f'The "{param}" parameter is required when the "{param}_token" parameter is used')
    if not token:
        return None
    user, sep, password = token.partition(":")
    if not sep or not user or not password:
        raise StepError(f'The "{param}_token" parameter must be in the format "user:password"')
    return OverwriteToken(user, password)


def check_from_index_unchanged(from_index: str, resolved_before: str, resolved_now: str) -> None:
    """IIB's optimistic concurrency before overwriting: the index must not have moved."""
    if digest_of(resolved_before) != digest_of(resolved_now):
        raise StepError(
            "The supplied from_index image changed during the IIB request. Please resubmit the request."
        )


def check_graph_update_mode(
    mode: str | None, from_index: str | None, allow_list: Iterable[str]
) -> str | None:
    if mode is None:
        return None
    if mode not in GRAPH_UPDATE_MODES:
        raise StepError(f'"graph_update_mode" must be set to one of these: {list(GRAPH_UPDATE_MODES)}')
    allowed = list(allow_list)
    if allowed and from_index and from_index not in allowed and image_name(from_index) not in allowed:
        raise StepError(f'"graph_update_mode" can only be used on the following index image: {allowed}')
    return mode


def deprecated_bundles(bundles: Iterable[str], deprecation_list: Iterable[str]) -> list[str]:
    """The bundles (present or new) whose digest is in the resolved deprecation list."""
    wanted = {d for d in (digest_of(p) for p in deprecation_list) if d}
    return [b for b in bundles if digest_of(b) in wanted]


def _ocp(text: str) -> tuple[int, ...]:
    parts = text.strip().lstrip("v").split(".")
    if not text.strip() or not all(p.isdigit() for p in parts):
        raise ValueError(text)
    return tuple(int(p) for p in parts)


def bundle_ocp_version_valid(label: str | None, index_ocp_version: str, allow_missing: bool = False) -> bool:
    """Whether a bundle's ``com.redhat.openshift.versions`` label admits the index's OCP version.

    Forms: ``v4.5`` (that version or later), ``=v4.6`` (exactly), ``v4.5-v4.7`` (a range),
    ``v4.5,v4.6`` (the lowest listed or later), ``=v4.5|>=v4.7`` (alternatives, each ``=`` or ``>=``).
    A missing label is valid only when ``allow_missing``; an unreadable one is invalid.
    """
    try:
        ocp = _ocp(index_ocp_version)
    except ValueError:
        raise StepError(f'Invalid OCP version, "{index_ocp_version}", specified in Index Image') from None
    if not label:
        return allow_missing
    try:
        if "|" in label:
            choices = label.split("|")
            if not all(c.startswith(("=", ">=")) for c in choices):
                return False
            for choice in choices:
                if choice.startswith(">="):
                    if ocp >= _ocp(choice[2:]):
                        return True
                elif _ocp(choice[1:]) == ocp:
                    return True
            return False
        if label.startswith("="):
            return _ocp(label[1:]) == ocp
        if "-" in label:
            low, high = (_ocp(v) for v in label.split("-", 1))
            return low <= ocp <= high
        if "," in label:
            return min(_ocp(v) for v in label.split(",")) <= ocp
        return _ocp(label) <= ocp
    except ValueError:
        return False
