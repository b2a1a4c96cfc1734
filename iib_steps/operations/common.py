"""IIB's common pipeline (spec/iib.md §4.0) shared by add, rm, fbc-operations, merge, create-empty and
add-deprecations: resolve and decide, build the index image from stable catalog layers, push the
manifest list under every tag, overwrite ``from_index`` when asked, report and write the results.
"""

from __future__ import annotations

import base64
import gzip
import shutil
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson

from iib_steps import resolve as rs
from iib_steps.config import Settings
from iib_steps.errors import StepError
from iib_steps.images.build import PendingLayer
from iib_steps.images.inspect import ExistingLayer
from iib_steps.images.layers import LayerBlob
from iib_steps.operations import catalogs
from iib_steps.operations.group_check import DEFAULT_MAX_WORKERS, available_cpus
from iib_steps.operations.imaging import BuiltImage, ImageInfo, ImageIO
from iib_steps.operations.index_source import IndexSource
from iib_steps.operations.prepack import Prepacker
from iib_steps.report import Reporter
from iib_steps.results import request_json, write_json_file, write_results


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# Every Tekton result some command writes (checked before any work, so a typo fails early).
RESULT_NAMES = frozenset(
    {
        "IMAGE_URL", "IMAGE_DIGEST", "IMAGE_REF", "index_image", "index_image_resolved",
        "internal_index_image_copy", "internal_index_image_copy_resolved", "from_index_resolved",
        "binary_image_resolved", "arches", "indexImageDigests", "bundle_mapping", "removed_operators",
        "source_from_index_resolved", "target_index_resolved", "bundle_image", "from_bundle_image_resolved",
        "package_name", "bundle_images", "parent_bundle_image_resolved", "nested_bundles_count",
        "jsonBuildInfo", "buildState", "exitCode", "iibLog",
    }
)  # fmt: skip


def konflux_build_info(data: dict[str, Any]) -> str:
    """Konflux's ``jsonBuildInfo``: the request JSON with ``updated`` (the completion time it reads,
    IIB's ISO-8601 with ``Z``), gzipped and base64-encoded as its update-fbc-catalog task writes it."""
    updated = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return base64.b64encode(gzip.compress(orjson.dumps({**data, "updated": updated}), mtime=0)).decode()


@dataclass
class Context:
    """Everything a step needs besides its own inputs."""

    settings: Settings
    reporter: Reporter
    images: ImageIO
    request_id: str
    workdir: Path
    result_paths: dict[str, str] = field(default_factory=dict)
    results_dir: Path | None = None
    request_json_path: Path | None = None

    @classmethod
    def create(
        cls,
        settings: Settings,
        reporter: Reporter,
        *,
        request_id: str | None,
        workdir: Path | None = None,
        result_paths: dict[str, str] | None = None,
        results_dir: Path | None = None,
        request_json_path: Path | None = None,
        images: ImageIO | None = None,
    ) -> Context:
        unknown = sorted(set(result_paths or {}) - RESULT_NAMES)
        if unknown:
            raise StepError(
                f"unknown result name(s) {', '.join(unknown)}; known: {', '.join(sorted(RESULT_NAMES))}"
            )
        rid = request_id or reporter.request_id or "local"
        work = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=f"iib-{rid}-"))
        work.mkdir(parents=True, exist_ok=True)
        return cls(
            settings=settings,
            reporter=reporter,
            images=images or ImageIO(settings),
            request_id=str(rid),
            workdir=work,
            result_paths=dict(result_paths or {}),
            results_dir=results_dir,
            request_json_path=request_json_path,
        )

    def subdir(self, name: str) -> Path:
        path = self.workdir / name
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        return path

    def log_location(self) -> str:
        """Konflux's ``iibLog`` result: where the build's log can be read."""
        if self.reporter.enabled:
            return f"IIB log url is: {self.reporter.url}/builds/{self.request_id}/logs"
        return "IIB log: this TaskRun's step logs"

    def output_spec(self, tag: str | int) -> str:
        return rs.output_pull_spec(self.settings.image_push_template, self.settings.registry, tag)

    def finish(self, request_type: str, fields: dict[str, Any], results: dict[str, Any]) -> dict[str, Any]:
        """Write the Tekton results and the request JSON file; return the request JSON."""
        data = request_json(request_type, fields, self.request_id)
        # The names Konflux's update-fbc-catalog task reads (spec/tekton.md §5.3): the request JSON
        # gzipped and base64-encoded, the final state, the exit code.
        results = {
            **results,
            "jsonBuildInfo": konflux_build_info(data),
            "buildState": {"state": data["state"], "state_reason": data["state_reason"]},
            "exitCode": "0",
            "iibLog": self.log_location(),
        }
        paths: dict[str, str | Path | None] = dict(self.result_paths)
        if self.results_dir:
            for name in results:
                paths.setdefault(name, self.results_dir / name)
        for name in sorted(set(self.result_paths) - set(results)):
            log(f"note: {request_type} has no result {name!r}; writing it empty")
        write_results(paths, results)
        if self.request_json_path:
            write_json_file(self.request_json_path, data)
        return data


@dataclass
class Prepared:
    """The outcome of IIB's ``prepare_request_for_build``."""

    arches: list[str]
    binary_image: str
    binary_image_resolved: str
    distribution_scope: str
    ocp_version: str
    from_index: rs.IndexFacts | None
    bundle_mapping: dict[str, list[str]] = field(default_factory=dict)
    extra_indexes: dict[str, rs.IndexFacts] = field(default_factory=dict)

    @property
    def binaryless(self) -> bool:
        return self.binary_image == rs.BINARYLESS


def index_facts(
    ctx: Context, pull_spec: str | None, default_ocp: str = rs.DEFAULT_OCP_VERSION
) -> rs.IndexFacts:
    if not pull_spec:
        return rs.IndexFacts(ocp_version=default_ocp)
    info = ctx.images.inspect(pull_spec)
    return rs.IndexFacts.from_labels(pull_spec, info.resolved, info.arches, info.labels, default_ocp)


def prepare_request_for_build(
    ctx: Context,
    *,
    from_index: str | None,
    binary_image: str | None,
    add_arches: Iterable[str] | None = None,
    distribution_scope: str | None = None,
    bundles: list[str] | None = None,
    bundle_labels: dict[str, dict[str, str]] | None = None,
    scope_index: rs.IndexFacts | None = None,
    other_indexes: dict[str, rs.IndexFacts] | None = None,
) -> Prepared:
    """Resolve from_index and the binary image, decide scope and arches, map bundles to packages."""
    ctx.reporter.progress("Resolving the container images")
    facts = index_facts(ctx, from_index)
    decide_from = scope_index or facts
    scope = rs.decide_scope(decide_from.distribution_scope, distribution_scope)
    binary = rs.decide_binary_image(
        binary_image, ctx.settings.binary_image_config, scope, decide_from.ocp_version
    )
    index_arches = [facts.arches, *[f.arches for f in (other_indexes or {}).values()]]
    if binary == rs.BINARYLESS:
        arches = rs.decide_arches(index_arches, add_arches, None, binaryless=True)
        binary_resolved = binary
    else:
        info = ctx.images.inspect(binary, labels=False)
        binary_resolved = info.resolved
        arches = rs.decide_arches(
            index_arches,
            add_arches,
            info.arches,
            subset_allowed=decide_from.ocp_version in ctx.settings.binary_image_less_arches_allowed_versions,
        )
    mapping = rs.bundle_mapping({b: (bundle_labels or {}).get(b, {}) for b in bundles or []})
    prepared = Prepared(
        arches=arches,
        binary_image=binary,
        binary_image_resolved=binary_resolved,
        distribution_scope=scope,
        ocp_version=decide_from.ocp_version,
        from_index=facts if from_index else None,
        bundle_mapping=mapping,
        extra_indexes=dict(other_indexes or {}),
    )
    ctx.reporter.progress(
        f"Building the index image for the following arches: {', '.join(arches)}",
        binary_image=binary,
        binary_image_resolved=binary_resolved,
        distribution_scope=scope,
        from_index_resolved=facts.resolved,
        bundle_mapping=mapping or None,
    )
    return prepared


def resolve_bundles(ctx: Context, bundles: list[str]) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Resolve bundle images (a list → its first manifest) and read their labels; check required labels."""
    resolved: list[str] = []
    labels: dict[str, dict[str, str]] = {}
    for bundle in rs.unique(bundles):
        info: ImageInfo = ctx.images.inspect(bundle)
        resolved.append(info.bundle_resolved)
        labels[bundle] = info.labels
        rs.check_required_labels(bundle, info.labels, ctx.settings.required_labels)
    return resolved, labels


def load_index_catalog(configs: Path) -> tuple[Any, bool]:
    """Load the extracted catalog; lay it out one directory per package if it is not already.

    Returns the catalog and whether the layout was kept (only then can layers be reused).
    """
    cfg, kept, _pure = load_index_catalog_checked(configs)
    return cfg, kept


def load_index_catalog_checked(configs: Path) -> tuple[Any, bool, bool]:
    """:func:`load_index_catalog`, and whether every package directory holds only its own blobs
    (then a whole-catalog validation can be recorded on the image built from it)."""
    cfg, pure = catalogs.load_checked(configs)
    rewritten = catalogs.normalize(cfg, configs)
    return cfg, not rewritten, pure or rewritten


def index_labels(prepared: Prepared, extra: dict[str, str] | None = None) -> dict[str, str]:
    labels = {
        rs.LABEL_CONFIGS: "/configs",
        rs.LABEL_OCP_VERSION: prepared.ocp_version,
        rs.LABEL_SCOPE: prepared.distribution_scope,
    }
    labels.update(extra or {})
    return labels


def build_and_push_index(
    ctx: Context,
    prepared: Prepared,
    configs: Path,
    *,
    tags: list[str],
    extra_labels: dict[str, str] | None = None,
    changed_packages: Iterable[str] | None = None,
    previous_index: str | None = None,
    kept_layers: Mapping[int, ExistingLayer | LayerBlob | PendingLayer] | None = None,
    validated: bool = False,
    prepacked: Prepacker | None = None,
) -> BuiltImage:
    """Build the index image for every arch from the catalog at ``configs`` and push it under ``tags``.

    With ``changed_packages`` and a ``previous_index`` laid out with the same layer groups, only the
    groups holding changed packages are packed again; the others reuse the previous image's layers.
    """
    outputs = [ctx.output_spec(tag) for tag in tags]
    built = ctx.images.build_index(
        binary_resolved=None if prepared.binaryless else prepared.binary_image_resolved,
        configs=configs,
        groups=ctx.settings.catalog_layer_groups,
        arches=prepared.arches,
        labels=index_labels(prepared, extra_labels),
        outputs=outputs,
        changed_packages=list(changed_packages) if changed_packages is not None else None,
        previous_index=previous_index,
        kept_layers=kept_layers,
        validated=validated,
        prepacked=prepacked,
        work_dir=ctx.subdir("build"),
    )
    log(
        f"pushed {built.digest} to {', '.join(outputs)}: {built.layers_built} catalog layer(s) packed, "
        f"{built.layers_reused} reused, {built.bytes_uploaded} bytes uploaded"
    )
    return built


def check_overwrite_token(ctx: Context, index: str | None, token: rs.OverwriteToken | None) -> None:
    """A wrong overwrite token must fail before anything is built or pushed."""
    if token is not None and index:
        ctx.images.check_credentials(index, token)


def overwrite_from_index(
    ctx: Context, from_index: str, resolved_before: str, built: BuiltImage, token: rs.OverwriteToken | None
) -> str:
    """IIB's overwrite: the index must not have moved since it was resolved; then copy the output over it."""
    now = ctx.images.inspect(from_index, labels=False)
    rs.check_from_index_unchanged(from_index, resolved_before, now.resolved)
    ctx.reporter.progress(f"Overwriting the index image {from_index} with {built.pull_spec}")
    ctx.images.copy(built.pull_spec, from_index, token=token)
    return from_index


def index_results(
    ctx: Context,
    prepared: Prepared,
    built: BuiltImage,
    *,
    from_index: str | None,
    overwritten: bool,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(request fields, Tekton results) common to the index-building types."""
    internal = built.pull_spec
    internal_resolved = rs.with_digest(internal, built.digest)
    if overwritten and from_index:
        index_image = from_index
    else:
        index_image = rs.public_index_image(
            internal, ctx.settings.registry, ctx.settings.index_image_output_registry
        )
    index_image_resolved = rs.with_digest(index_image, built.digest)
    fields: dict[str, Any] = {
        "arches": prepared.arches,
        "binary_image": prepared.binary_image,
        "binary_image_resolved": prepared.binary_image_resolved,
        "distribution_scope": prepared.distribution_scope,
        "from_index": from_index,
        "from_index_resolved": prepared.from_index.resolved if prepared.from_index else None,
        "index_image": index_image,
        "index_image_resolved": index_image_resolved,
        "internal_index_image_copy": internal,
        "internal_index_image_copy_resolved": internal_resolved,
    }
    results: dict[str, Any] = {
        "IMAGE_URL": index_image,
        "IMAGE_DIGEST": built.digest,
        "IMAGE_REF": index_image_resolved,
        "index_image": index_image,
        "index_image_resolved": index_image_resolved,
        "internal_index_image_copy": internal,
        "internal_index_image_copy_resolved": internal_resolved,
        "from_index_resolved": fields["from_index_resolved"] or "",
        "binary_image_resolved": prepared.binary_image_resolved,
        "arches": prepared.arches,
        "indexImageDigests": " ".join(built.arch_digests.values()),
    }
    return fields, results


class FromIndexRequest(Protocol):
    """The request fields an operation on an existing ``from_index`` prepares its build from."""

    from_index: str | None
    binary_image: str | None
    add_arches: list[str]
    distribution_scope: str | None


def prepare_and_extract(
    ctx: Context, req: FromIndexRequest, touched: Iterable[str] | None = None
) -> tuple[Prepared, IndexSource]:
    """Prepare the build from ``req.from_index`` (which must be set) and extract its catalog: only the
    layer groups holding the ``touched`` packages when the index allows it, else all of it."""
    prepared = prepare_request_for_build(
        ctx,
        from_index=req.from_index,
        binary_image=req.binary_image,
        add_arches=req.add_arches,
        distribution_scope=req.distribution_scope,
    )
    assert prepared.from_index is not None
    return prepared, open_source(ctx, prepared, touched)


def open_source(ctx: Context, prepared: Prepared, touched: Iterable[str] | None) -> IndexSource:
    """The catalog of ``prepared.from_index`` (empty without one) under the work dir's ``configs``.

    Worker processes check a catalog not built here: ``catalog_workers`` of them, or by default one
    per CPU (at most 4; one on a single CPU, where checking in a worker still costs less CPU than
    loading the whole catalog); ``catalog_workers: 1`` loads the whole catalog in this process.
    """
    setting = ctx.settings.catalog_workers
    return IndexSource.open(
        ctx.images,
        prepared.from_index.resolved if prepared.from_index else None,
        ctx.subdir("configs"),
        ctx.settings.catalog_layer_groups,
        None if touched is None else set(touched),
        prepack_dir=ctx.subdir("prepack"),
        workers=0 if setting == 1 else setting or min(available_cpus(), DEFAULT_MAX_WORKERS),
    )


def build_push_and_overwrite(
    ctx: Context,
    prepared: Prepared,
    configs: Path,
    *,
    build_tags: list[str],
    changed_packages: Iterable[str],
    layout_kept: bool = False,
    source: IndexSource | None = None,
    validated: bool = False,
    pure: bool = False,
    index: str | None,
    index_resolved: str | None,
    overwrite: bool,
    token: rs.OverwriteToken | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Build and push the index image, overwrite ``index`` when asked, and return ``index_results``.

    Layers of ``prepared.from_index`` are reused only when its catalog layout was kept (``source``,
    when given, says so, and on the incremental path which groups are kept as they are).
    ``validated``: the catalog was validated (as a whole, or its changed groups against a matching
    record), so the image gets a validation record when its layout allows one (``source.pure``, or
    ``pure`` without a source: every package directory holds only its own blobs).
    """
    if source is not None:
        layout_kept = source.layout_kept
    try:
        built = build_and_push_index(
            ctx,
            prepared,
            configs,
            tags=rs.output_tags(ctx.request_id, build_tags),
            changed_packages=changed_packages,
            previous_index=prepared.from_index.resolved if prepared.from_index and layout_kept else None,
            kept_layers=source.kept_layers() if source is not None else None,
            validated=validated and (source.pure if source is not None else pure),
            prepacked=source.prepacker if source is not None and layout_kept else None,
        )
    finally:
        if source is not None:
            source.release()
    if overwrite:
        overwrite_from_index(ctx, index or "", index_resolved or "", built, token)
    return index_results(ctx, prepared, built, from_index=index, overwritten=overwrite)


def report_index_done(
    ctx: Context, fields: dict[str, Any], reason: str, *, internal_copy: bool = True
) -> None:
    keys = ["arches", "index_image", "index_image_resolved"]
    if internal_copy:
        keys += ["internal_index_image_copy", "internal_index_image_copy_resolved"]
    ctx.reporter.update(**{k: fields[k] for k in keys if fields.get(k) is not None})
    ctx.reporter.complete(reason)


def describe(items: Iterable[str]) -> str:
    return ", ".join(items)
