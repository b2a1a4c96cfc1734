"""``iib-step add | rm | fbc-operations | create-empty-index | merge-index-image | add-deprecations |
regenerate-bundle | regenerate-bundle-batch | recursive-related-bundles``.

Every input is an option. A list option may be repeated or given once as a JSON array (as Tekton
array params reach a step through ``args``); an empty string means "none". Secrets (overwrite tokens)
come from a file or an environment variable, never from the command line. Results go to the paths
given by ``--result NAME=PATH`` (or every result into ``--results-dir``), the request JSON to
``--request-json``. Progress and the final state are PATCHed to the status API when its URL and the
request id are given.
"""

from __future__ import annotations

import inspect
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from catalog.errors import CatalogError
from iib_steps import tracing
from iib_steps.apps import app
from iib_steps.errors import StepError

if TYPE_CHECKING:
    from iib_steps.config import Settings
    from iib_steps.operations.common import Context

# The operations, settings and HTTP code are imported inside the commands, so that parsing the
# command line (and --help) stays fast. Same names as iib_steps.report's.
URL_ENV = "IIB_STATUS_API_URL"
REQUEST_ID_ENV = "IIB_REQUEST_ID"

T = TypeVar("T")
UNKNOWN_ERROR = "An unknown error occurred. See logs for details"

# -- shared options ---------------------------------------------------------------------------------
RequestId = Annotated[str | None, typer.Option("--request-id", envvar=REQUEST_ID_ENV, help="IIB request id.")]
StatusUrl = Annotated[
    str | None,
    typer.Option("--status-api-url", envvar=URL_ENV, help="Status API base, e.g. http://h/api/v1."),
]
ConfigFile = Annotated[
    Path | None, typer.Option("--config", envvar="IIB_STEPS_CONFIG", help="Settings file (YAML or JSON).")
]
Registry = Annotated[
    str | None, typer.Option("--registry", envvar="IIB_REGISTRY", help="Override the output registry.")
]
Workdir = Annotated[
    Path | None, typer.Option("--workdir", help="Scratch directory, kept (default: a temp dir, removed).")
]
ResultOpt = Annotated[
    list[str] | None, typer.Option("--result", help="NAME=PATH of a Tekton result to write.")
]
ResultsDir = Annotated[Path | None, typer.Option("--results-dir", help="Write every result as DIR/NAME.")]
RequestJson = Annotated[Path | None, typer.Option("--request-json", help="Write IIB's request JSON here.")]
FromIndex = Annotated[str | None, typer.Option("--from-index", help="The index image to start from.")]
BinaryImage = Annotated[str | None, typer.Option("--binary-image", help="opm image, or 'scratch'.")]
AddArches = Annotated[list[str] | None, typer.Option("--add-arches", help="Extra architectures.")]
Scope = Annotated[str | None, typer.Option("--distribution-scope", help="prod, stage or dev.")]
BuildTags = Annotated[list[str] | None, typer.Option("--build-tags", help="Extra output tags.")]
Overwrite = Annotated[
    bool,
    typer.Option(
        "--overwrite-from-index", envvar="IIB_OVERWRITE_FROM_INDEX", help="Copy the result over from_index."
    ),
]
# Secret files are str, not Path: an empty value (an unbound optional Tekton workspace) means none,
# and a directory (a mounted Secret) means its file "token" (see config.mounted_file).
TokenFile = Annotated[
    str | None,
    typer.Option("--overwrite-from-index-token-file", help="File (or Secret directory) holding user:token."),
]
DeprecationList = Annotated[
    list[str] | None, typer.Option("--deprecation-list", help="Bundle images to deprecate.")
]
GraphUpdateMode = Annotated[
    str | None, typer.Option("--graph-update-mode", help="replaces, semver or semver-skippatch.")
]
Organization = Annotated[
    str | None, typer.Option("--organization", help="Organization whose customizations apply.")
]
TOKEN_ENV = "IIB_OVERWRITE_FROM_INDEX_TOKEN"


def _list(values: list[str] | None) -> list[str]:
    """Repeated values, or one JSON array; empty strings are dropped."""
    out: list[str] = []
    for value in values or []:
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                raise StepError(f"{value!r} is not a valid JSON array") from None
            if not isinstance(parsed, list) or not all(isinstance(v, str) for v in parsed):
                raise StepError(f"{value!r} must be a JSON array of strings")
            out.extend(v for v in parsed if v)
        elif text:
            out.append(text)
    return out


def _json_object(value: str | None, what: str) -> dict[str, Any]:
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except ValueError:
        raise StepError(f'The value of "{what}" must be a JSON object') from None
    if not isinstance(parsed, dict):
        raise StepError(f'The value of "{what}" must be a JSON object')
    return parsed


def _result_paths(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values or []:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise StepError(f"--result takes NAME=PATH, not {value!r}")
        out[name] = path
    return out


def _token(path: str | None) -> str | None:
    from iib_steps.config import read_secret

    secret = read_secret(path or None, TOKEN_ENV)
    return secret.reveal() if secret else None


def _registry_auths(given: str | None) -> dict[str, Any] | None:
    """A request's ``registry_auths`` (a docker config.json) from a file; never from the command line.

    A directory (a mounted Secret) holds it as ``config.json``; an empty value means none.
    """
    from iib_steps.config import mounted_file

    path = mounted_file(given, "config.json")
    if path is None:
        return None
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise StepError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError:
        raise StepError('"registry_auths" must be a dict') from None
    from iib_steps.operations import regenerate_bundle as regen_op

    return regen_op.check_registry_auths(data)


RegistryAuths = Annotated[
    str | None,
    typer.Option(
        "--registry-auths-file", help="docker config.json (or Secret directory) with registry auths."
    ),
]


@dataclass(frozen=True)
class StepOptions:
    """The options every step command takes (settings, status reporting, scratch and result paths)."""

    config: Path | None = None
    registry: str | None = None
    request_id: str | None = None
    status_api_url: str | None = None
    workdir: Path | None = None
    result: list[str] | None = None
    results_dir: Path | None = None
    request_json: Path | None = None


_STEP_PARAMS = [
    inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=option)
    for name, option in (
        ("config", ConfigFile),
        ("registry", Registry),
        ("request_id", RequestId),
        ("status_api_url", StatusUrl),
        ("workdir", Workdir),
        ("result", ResultOpt),
        ("results_dir", ResultsDir),
        ("request_json", RequestJson),
    )
]


def step_command(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register ``func`` as ``iib-step NAME``, with the options of ``StepOptions`` after its own.

    ``func`` declares its own options and takes the shared ones as one ``step: StepOptions`` argument.
    """

    def register(func: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(func, eval_str=True)
        own = [p for p in signature.parameters.values() if p.name != "step"]

        def command(**kwargs: Any) -> None:
            step = StepOptions(**{p.name: kwargs.pop(p.name) for p in _STEP_PARAMS})
            with tracing.step_span(f"iib-step {name}", {"iib.request_id": step.request_id}):
                func(**kwargs, step=step)

        command.__signature__ = signature.replace(parameters=[*own, *_STEP_PARAMS])  # type: ignore[attr-defined]
        command.__name__ = func.__name__
        command.__qualname__ = func.__qualname__
        command.__doc__ = func.__doc__
        command.__module__ = func.__module__
        app.command(name)(command)
        return func

    return register


def _settings(config: Path | None, registry: str | None) -> Settings:
    from iib_steps.config import load_settings

    settings = load_settings(config)
    if registry:
        settings = settings.model_copy(update={"registry": registry})
    return settings


def _run(
    step: StepOptions,
    body: Callable[[Context], T],
    *,
    registry_auths: dict[str, Any] | None = None,
) -> T:
    """Set up a step, run ``body``; on failure PATCH ``failed`` and re-raise as one line."""
    from iib_steps.operations.common import Context
    from iib_steps.operations.imaging import ImageIO
    from iib_steps.report import Reporter

    settings = _settings(step.config, step.registry)
    reporter = Reporter.for_settings(step.status_api_url, step.request_id, settings)
    ctx = Context.create(
        settings,
        reporter,
        request_id=step.request_id,
        workdir=step.workdir,
        result_paths=_result_paths(step.result),
        results_dir=step.results_dir,
        request_json_path=step.request_json,
        images=ImageIO(settings, registry_auths=registry_auths) if registry_auths else None,
    )
    try:
        return body(ctx)
    except (StepError, CatalogError) as exc:
        reporter.failed(" ".join(str(exc).split()))
        raise
    except Exception:
        reporter.failed(UNKNOWN_ERROR)
        raise
    finally:
        if step.workdir is None:  # a temp dir of our own (catalogs, layers): nothing in it outlives the step
            shutil.rmtree(ctx.workdir, ignore_errors=True)


def _echo_done(data: Any) -> None:
    if isinstance(data, dict) and data.get("index_image"):
        typer.echo(data["index_image"])
    elif isinstance(data, dict) and data.get("bundle_image"):
        typer.echo(data["bundle_image"])


# -- commands -----------------------------------------------------------------------------------------
@step_command("add")
def add(
    bundles: Annotated[list[str] | None, typer.Option("--bundles", help="Bundle images to add.")] = None,
    from_index: FromIndex = None,
    binary_image: BinaryImage = None,
    add_arches: AddArches = None,
    distribution_scope: Scope = None,
    deprecation_list: DeprecationList = None,
    build_tags: BuildTags = None,
    graph_update_mode: GraphUpdateMode = None,
    check_related_images: Annotated[
        bool | None,
        typer.Option(
            "--check-related-images/--no-check-related-images",
            envvar="IIB_CHECK_RELATED_IMAGES",
            help="Check that the bundles' related images exist.",
        ),
    ] = None,
    organization: Organization = None,
    overwrite_from_index: Overwrite = False,
    overwrite_from_index_token_file: TokenFile = None,
    greenwave_config: Annotated[
        str | None,
        typer.Option(
            "--greenwave-config",
            help="Gate the bundles on Greenwave: a JSON object with decision_context, product_version"
            " and subject_type (as the API chose for the request's queue); the URL is greenwave_url.",
        ),
    ] = None,
    *,
    step: StepOptions,
) -> None:
    """Add bundles to an index image (IIB's add request)."""
    from iib_steps.greenwave import parse_config as parse_greenwave_config
    from iib_steps.operations import add as add_op

    req = add_op.AddRequest(
        bundles=_list(bundles),
        from_index=from_index or None,
        binary_image=binary_image or None,
        add_arches=_list(add_arches),
        distribution_scope=distribution_scope or None,
        deprecation_list=_list(deprecation_list),
        build_tags=_list(build_tags),
        graph_update_mode=graph_update_mode or None,
        check_related_images=check_related_images,
        organization=organization or None,
        overwrite_from_index=overwrite_from_index,
        overwrite_from_index_token=_token(overwrite_from_index_token_file),
        greenwave_config=parse_greenwave_config(greenwave_config),
    )
    _echo_done(_run(step, lambda ctx: add_op.run(ctx, req)))


@step_command("rm")
def rm(
    operators: Annotated[list[str] | None, typer.Option("--operators", help="Packages to remove.")] = None,
    from_index: FromIndex = None,
    binary_image: BinaryImage = None,
    add_arches: AddArches = None,
    distribution_scope: Scope = None,
    build_tags: BuildTags = None,
    overwrite_from_index: Overwrite = False,
    overwrite_from_index_token_file: TokenFile = None,
    *,
    step: StepOptions,
) -> None:
    """Remove operators (packages) from an index image (IIB's rm request)."""
    from iib_steps.operations import rm as rm_op

    req = rm_op.RmRequest(
        operators=_list(operators),
        from_index=from_index or None,
        binary_image=binary_image or None,
        add_arches=_list(add_arches),
        distribution_scope=distribution_scope or None,
        build_tags=_list(build_tags),
        overwrite_from_index=overwrite_from_index,
        overwrite_from_index_token=_token(overwrite_from_index_token_file),
    )
    _echo_done(_run(step, lambda ctx: rm_op.run(ctx, req)))


@step_command("fbc-operations")
def fbc_operations(
    fbc_fragments: Annotated[
        list[str] | None, typer.Option("--fbc-fragments", help="Fragment images.")
    ] = None,
    fbc_fragment: Annotated[str | None, typer.Option("--fbc-fragment", help="One fragment (legacy).")] = None,
    from_index: FromIndex = None,
    binary_image: BinaryImage = None,
    add_arches: AddArches = None,
    distribution_scope: Scope = None,
    build_tags: BuildTags = None,
    overwrite_from_index: Overwrite = False,
    overwrite_from_index_token_file: TokenFile = None,
    *,
    step: StepOptions,
) -> None:
    """Replace packages of an index image with those of FBC fragment images (IIB's fbc-operations)."""
    from iib_steps.operations import fbc_operations as fbc_op

    req = fbc_op.FbcRequest(
        from_index=from_index or None,
        fbc_fragment=fbc_fragment if fbc_fragment else None,
        fbc_fragments=_list(fbc_fragments),
        binary_image=binary_image or None,
        add_arches=_list(add_arches),
        distribution_scope=distribution_scope or None,
        build_tags=_list(build_tags),
        overwrite_from_index=overwrite_from_index,
        overwrite_from_index_token=_token(overwrite_from_index_token_file),
    )
    _echo_done(_run(step, lambda ctx: fbc_op.run(ctx, req)))


@step_command("create-empty-index")
def create_empty_index(
    from_index: FromIndex = None,
    binary_image: BinaryImage = None,
    labels: Annotated[str | None, typer.Option("--labels", help="JSON object of extra labels.")] = None,
    distribution_scope: Scope = None,
    *,
    step: StepOptions,
) -> None:
    """An index image like from_index with no operators (IIB's create-empty-index)."""
    from iib_steps.operations import create_empty as empty_op

    req = empty_op.CreateEmptyRequest(
        from_index=from_index or None,
        binary_image=binary_image or None,
        labels=_json_object(labels, "labels"),
        distribution_scope=distribution_scope or None,
    )
    _echo_done(_run(step, lambda ctx: empty_op.run(ctx, req)))


@step_command("merge-index-image")
def merge_index_image(
    source_from_index: Annotated[
        str | None, typer.Option("--source-from-index", help="Index to merge into.")
    ] = None,
    target_index: Annotated[
        str | None, typer.Option("--target-index", help="Index whose bundles to add.")
    ] = None,
    deprecation_list: DeprecationList = None,
    binary_image: BinaryImage = None,
    build_tags: BuildTags = None,
    distribution_scope: Scope = None,
    graph_update_mode: GraphUpdateMode = None,
    ignore_bundle_ocp_version: Annotated[
        bool,
        typer.Option(
            "--ignore-bundle-ocp-version",
            envvar="IIB_IGNORE_BUNDLE_OCP_VERSION",
            help="Add bundles whatever their max OCP version.",
        ),
    ] = False,
    overwrite_target_index: Annotated[
        bool,
        typer.Option(
            "--overwrite-target-index",
            envvar="IIB_OVERWRITE_TARGET_INDEX",
            help="Copy the result over target_index.",
        ),
    ] = False,
    overwrite_target_index_token_file: Annotated[
        str | None,
        typer.Option(
            "--overwrite-target-index-token-file", help="File (or Secret directory) holding user:token."
        ),
    ] = None,
    *,
    step: StepOptions,
) -> None:
    """The source index plus the target index's bundles it lacks (IIB's merge-index-image)."""
    from iib_steps.config import read_secret
    from iib_steps.operations import merge as merge_op

    secret = read_secret(
        overwrite_target_index_token_file or None,
        "IIB_OVERWRITE_TARGET_INDEX_TOKEN",
    )
    req = merge_op.MergeRequest(
        source_from_index=source_from_index or None,
        target_index=target_index or None,
        deprecation_list=_list(deprecation_list),
        binary_image=binary_image or None,
        build_tags=_list(build_tags),
        distribution_scope=distribution_scope or None,
        graph_update_mode=graph_update_mode or None,
        ignore_bundle_ocp_version=ignore_bundle_ocp_version,
        overwrite_target_index=overwrite_target_index,
        overwrite_target_index_token=secret.reveal() if secret else None,
    )
    _echo_done(_run(step, lambda ctx: merge_op.run(ctx, req)))


@step_command("add-deprecations")
def add_deprecations(
    operator_package: Annotated[
        str | None, typer.Option("--operator-package", help="Package to deprecate in.")
    ] = None,
    deprecation_schema: Annotated[str | None, typer.Option("--deprecation-schema", help="JSON text.")] = None,
    deprecation_schema_file: Annotated[
        Path | None, typer.Option("--deprecation-schema-file", help="File holding the schema.")
    ] = None,
    from_index: FromIndex = None,
    binary_image: BinaryImage = None,
    add_arches: AddArches = None,
    distribution_scope: Scope = None,
    build_tags: BuildTags = None,
    overwrite_from_index: Overwrite = False,
    overwrite_from_index_token_file: TokenFile = None,
    *,
    step: StepOptions,
) -> None:
    """Add an olm.deprecations blob for one package of an index image (IIB's add-deprecations)."""
    from iib_steps.operations import add_deprecations as deprecations_op

    schema = deprecation_schema
    if deprecation_schema_file:
        try:
            schema = deprecation_schema_file.read_text()
        except OSError as exc:
            raise StepError(f"cannot read {deprecation_schema_file}: {exc.strerror}") from None
    req = deprecations_op.AddDeprecationsRequest(
        operator_package=operator_package or None,
        deprecation_schema=schema or None,
        from_index=from_index or None,
        binary_image=binary_image or None,
        add_arches=_list(add_arches),
        distribution_scope=distribution_scope or None,
        build_tags=_list(build_tags),
        overwrite_from_index=overwrite_from_index,
        overwrite_from_index_token=_token(overwrite_from_index_token_file),
    )
    _echo_done(_run(step, lambda ctx: deprecations_op.run(ctx, req)))


@step_command("regenerate-bundle")
def regenerate_bundle(
    from_bundle_image: Annotated[
        str | None, typer.Option("--from-bundle-image", help="Bundle image to rebuild.")
    ] = None,
    organization: Organization = None,
    bundle_replacements: Annotated[
        str | None, typer.Option("--bundle-replacements", help="JSON object.")
    ] = None,
    related_bundles_file: Annotated[
        Path | None, typer.Option("--related-bundles-file", help="Write related bundles (JSON) here.")
    ] = None,
    registry_auths_file: RegistryAuths = None,
    *,
    step: StepOptions,
) -> None:
    """Rebuild a bundle image with pinned pull specs and its organization's customizations."""
    from iib_steps.operations import regenerate_bundle as regen_op

    replacements = _json_object(bundle_replacements, "bundle_replacements")
    req = regen_op.RegenerateRequest(
        from_bundle_image=from_bundle_image or None,
        organization=organization or None,
        bundle_replacements=replacements,
    )
    _echo_done(
        _run(
            step,
            lambda ctx: regen_op.run(ctx, req, str(related_bundles_file) if related_bundles_file else None),
            registry_auths=_registry_auths(registry_auths_file),
        )
    )


@step_command("regenerate-bundle-batch")
def regenerate_bundle_batch(
    build_requests: Annotated[
        str | None, typer.Option("--build-requests", help="JSON array of requests.")
    ] = None,
    build_requests_file: Annotated[
        Path | None, typer.Option("--build-requests-file", help="File holding the JSON array.")
    ] = None,
    *,
    step: StepOptions,
) -> None:
    """Regenerate several bundles (IIB's regenerate-bundle-batch); outputs tagged ``<id>-<n>``."""
    from iib_steps.operations import regenerate_bundle as regen_op

    text = build_requests
    if build_requests_file:
        try:
            text = build_requests_file.read_text()
        except OSError as exc:
            raise StepError(f"cannot read {build_requests_file}: {exc.strerror}") from None
    try:
        items = json.loads(text or "[]")
    except ValueError:
        items = None
    if isinstance(items, dict):
        items = items.get("build_requests")
    if not isinstance(items, list):
        raise StepError(
            'The input data must be a JSON object and the "build_requests" value must be a non-empty array'
        )
    out = _run(step, lambda ctx: regen_op.run_batch(ctx, items))
    for item in out:
        typer.echo(item["bundle_image"])


@step_command("recursive-related-bundles")
def recursive_related_bundles(
    parent_bundle_image: Annotated[
        str | None, typer.Option("--parent-bundle-image", help="Bundle image to start from.")
    ] = None,
    organization: Organization = None,
    output_file: Annotated[
        Path | None, typer.Option("--output-file", help="Write the JSON list here.")
    ] = None,
    registry_auths_file: RegistryAuths = None,
    *,
    step: StepOptions,
) -> None:
    """Every bundle reachable from a bundle's related images, leaves first (no image is built)."""
    from iib_steps.operations import regenerate_bundle as regen_op

    req = regen_op.RecursiveRequest(
        parent_bundle_image=parent_bundle_image or None, organization=organization or None
    )
    _run(
        step,
        lambda ctx: regen_op.run_recursive(ctx, req, str(output_file) if output_file else None),
        registry_auths=_registry_auths(registry_auths_file),
    )
    if output_file:
        typer.echo(str(output_file))
