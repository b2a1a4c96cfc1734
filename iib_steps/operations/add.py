"""add: bundles into an index image (spec/iib.md §4.1), on File-Based Catalogs only."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from iib_steps import resolve as rs
from iib_steps.errors import StepError
from iib_steps.greenwave import gate_bundles
from iib_steps.operations import catalogs
from iib_steps.operations.common import (
    Context,
    build_push_and_overwrite,
    open_source,
    prepare_request_for_build,
    report_index_done,
    resolve_bundles,
)

DONE = "The operator bundle(s) were successfully added to the index image"
log = logging.getLogger(__name__)


@dataclass
class AddRequest:
    bundles: list[str] = field(default_factory=list)
    from_index: str | None = None
    binary_image: str | None = None
    add_arches: list[str] = field(default_factory=list)
    distribution_scope: str | None = None
    deprecation_list: list[str] = field(default_factory=list)
    build_tags: list[str] = field(default_factory=list)
    graph_update_mode: str | None = None
    check_related_images: bool | None = None
    overwrite_from_index: bool = False
    overwrite_from_index_token: str | None = None
    organization: str | None = None
    # The Greenwave query parameters the API chose for this request's queue (None: no gating).
    greenwave_config: dict[str, str] | None = None

    def check(self, ctx: Context) -> rs.OverwriteToken | None:
        """IIB's API rules for an add request (spec/iib.md §2.4)."""
        if any(not b for b in self.bundles):
            raise StepError('"bundles" should be either an empty array or an array of non-empty strings')
        self.bundles = rs.unique(self.bundles)
        if not self.bundles and not self.from_index:
            raise StepError('"from_index" must be specified if no bundles are specified')
        if not self.from_index and not self.add_arches:
            raise StepError('One of "from_index" or "add_arches" must be specified')
        if self.check_related_images and not self.bundles:
            raise StepError('"check_related_images" must be specified only when bundles are specified')
        rs.normalize_scope(self.distribution_scope)
        rs.check_graph_update_mode(
            self.graph_update_mode, self.from_index, ctx.settings.graph_mode_index_allow_list
        )
        self.deprecation_list = rs.unique(self.deprecation_list)
        token = rs.parse_overwrite(self.overwrite_from_index, self.overwrite_from_index_token)
        if self.overwrite_from_index and not self.from_index:
            raise StepError('"from_index" is required when "overwrite_from_index" is set')
        return token


def check_related_images(ctx: Context, bundles: list[str]) -> None:
    """Every image a bundle's CSV names must be readable (IIB's ``check_related_images``)."""
    from iib_steps.regenerate.customize import found_pullspecs, load_manifest  # operator-manifest: slow

    unreachable: list[str] = []
    for bundle in bundles:
        bundle_dir = ctx.images.extract_bundle(bundle, ctx.subdir(f"related-{len(unreachable)}"))
        for spec in found_pullspecs(load_manifest(bundle_dir / "manifests")):
            try:
                ctx.images.inspect(spec.to_str(), labels=False)
            except StepError:
                unreachable.append(spec.to_str())
    if unreachable:
        raise StepError(f"IIB cannot access the following related images {sorted(set(unreachable))}")


def touched_packages(
    ctx: Context, bundles: list[str], labels: dict[str, dict[str, str]], deprecation_list: list[str]
) -> set[str] | None:
    """The packages an add can change, from the bundles' package labels (None when one has none: then
    any package may be touched). A bundle image lives in the package its label names."""
    touched: set[str] = set()
    for bundle in bundles:
        package = labels.get(bundle, {}).get(rs.LABEL_PACKAGE)
        if not package:
            return None
        touched.add(package)
    for bundle in deprecation_list:
        package = ctx.images.inspect(bundle).labels.get(rs.LABEL_PACKAGE)
        if not package:
            return None
        touched.add(package)
    return touched


def run(ctx: Context, req: AddRequest) -> dict[str, Any]:
    token = req.check(ctx)
    resolved: list[str] = []
    labels: dict[str, dict[str, str]] = {}
    if req.bundles:
        ctx.reporter.progress("Resolving the bundles")
        resolved, labels = resolve_bundles(ctx, req.bundles)
        if req.check_related_images:
            check_related_images(ctx, resolved)
        if req.greenwave_config:
            subjects = [(r, labels[b]) for r, b in zip(resolved, req.bundles, strict=True)]
            gate_bundles(
                ctx.settings.greenwave_url, subjects, req.greenwave_config, timeout=ctx.settings.api_timeout
            )
        else:
            log.warning("Greenwave checks are disabled. Bundles will not be gated.")
    prepared = prepare_request_for_build(
        ctx,
        from_index=req.from_index,
        binary_image=req.binary_image,
        add_arches=req.add_arches,
        distribution_scope=req.distribution_scope,
        bundles=req.bundles,
        bundle_labels=labels,
    )
    ctx.reporter.update(bundles=resolved or None)

    source = open_source(ctx, prepared, touched_packages(ctx, req.bundles, labels, req.deprecation_list))
    configs = source.configs
    ctx.reporter.progress("Checking if bundles are already present in index image")
    catalog = source.load()
    present = catalogs.bundle_images(catalog) + source.bundle_images_elsewhere()
    to_add, skipped = rs.bundles_to_add(resolved, present)
    for bundle in skipped:
        ctx.reporter.progress(f"Skipping {bundle}: it is already present in the index image")

    rendered = [
        catalogs.render_bundle(
            ctx.images.extract_bundle(b, ctx.subdir(f"bundle-{i}")),
            rs.catalog_pull_spec(b, ctx.settings.oci_layout_registry),
        )
        for i, b in enumerate(to_add)
    ]
    if source.ensure(catalogs.packages_of(rendered)):  # a bundle's label named another package
        catalog = source.load()
    changed: set[str] = set()
    if rendered:
        added = catalogs.add_bundles(
            catalog,
            rendered,
            req.graph_update_mode or "replaces",
            overwrite_latest=prepared.distribution_scope in ("dev", "stage"),
        )
        catalog = added.config
        changed |= set(added.changed) | set(added.removed)

    if req.deprecation_list:
        dep_resolved = [ctx.images.inspect(d, labels=False).bundle_resolved for d in req.deprecation_list]
        to_deprecate = rs.deprecated_bundles(catalogs.bundle_images(catalog), dep_resolved)
        if to_deprecate:
            deprecated = catalogs.deprecate_bundles(catalog, to_deprecate)
            catalog = deprecated.config
            changed |= set(deprecated.changed) | set(deprecated.removed)

    catalogs.validate(catalog)
    catalogs.write_packages(catalog, configs, changed)
    fields, results = build_push_and_overwrite(
        ctx,
        prepared,
        configs,
        build_tags=req.build_tags,
        changed_packages=changed,
        source=source,
        validated=True,
        index=req.from_index,
        index_resolved=prepared.from_index.resolved if prepared.from_index else None,
        overwrite=bool(req.overwrite_from_index and req.from_index and prepared.from_index),
        token=token,
    )
    fields.update(
        bundles=resolved,
        bundle_mapping=prepared.bundle_mapping,
        deprecation_list=req.deprecation_list,
        build_tags=req.build_tags,
        graph_update_mode=req.graph_update_mode,
        check_related_images=req.check_related_images,
        organization=req.organization,
        state="complete",
        state_reason=DONE,
    )
    results["bundle_mapping"] = prepared.bundle_mapping
    report_index_done(ctx, fields, DONE)
    return ctx.finish("add", fields, results)
