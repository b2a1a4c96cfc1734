"""merge-index-image: the source index plus the target's bundles it lacks (spec/iib.md §4.3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from iib_steps import resolve as rs
from iib_steps.errors import StepError
from iib_steps.operations import catalogs
from iib_steps.operations.common import (
    Context,
    build_push_and_overwrite,
    check_overwrite_token,
    index_facts,
    load_index_catalog_checked,
    log,
    prepare_request_for_build,
)

DONE = "The index image was successfully cleaned and updated."


@dataclass
class MergeRequest:
    source_from_index: str | None = None
    target_index: str | None = None
    deprecation_list: list[str] = field(default_factory=list)
    binary_image: str | None = None
    build_tags: list[str] = field(default_factory=list)
    distribution_scope: str | None = None
    graph_update_mode: str | None = None
    ignore_bundle_ocp_version: bool = False
    overwrite_target_index: bool = False
    overwrite_target_index_token: str | None = None

    def check(self, ctx: Context) -> rs.OverwriteToken | None:
        if not self.source_from_index:
            raise StepError('The "source_from_index" value must be a string')
        if self.overwrite_target_index and not self.overwrite_target_index_token:
            raise StepError(
                'The "overwrite_target_index_token" value is required when the '
                '"overwrite_target_index" value is set'
            )
        if self.overwrite_target_index_token and not self.overwrite_target_index:
            raise StepError(
                'The "overwrite_target_index" value is required when the '
                '"overwrite_target_index_token" value is used'
            )
        if self.overwrite_target_index and not self.target_index:
            raise StepError('"target_index" is required when "overwrite_target_index" is set')
        rs.normalize_scope(self.distribution_scope)
        rs.check_graph_update_mode(
            self.graph_update_mode, self.target_index, ctx.settings.graph_mode_index_allow_list
        )
        return rs.parse_overwrite(
            self.overwrite_target_index, self.overwrite_target_index_token, param="overwrite_target_index"
        )


def _by_digest(images: list[str], where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for image in images:
        digest = rs.digest_of(image)
        if not digest:
            raise StepError(f"Bundle {image} in the {where} index image is not defined via digest")
        out[digest] = image
    return out


def run(ctx: Context, req: MergeRequest) -> dict[str, Any]:
    token = req.check(ctx)
    check_overwrite_token(ctx, req.target_index, token)
    target = index_facts(ctx, req.target_index, rs.DEFAULT_TARGET_OCP_VERSION) if req.target_index else None
    prepared = prepare_request_for_build(
        ctx,
        from_index=req.source_from_index,
        binary_image=req.binary_image,
        distribution_scope=req.distribution_scope,
        scope_index=target,
        other_indexes={"target_index": target} if target else None,
    )
    assert prepared.from_index is not None
    ocp_version = target.ocp_version if target else prepared.from_index.ocp_version
    prepared.ocp_version = ocp_version

    ctx.reporter.progress("Getting bundles present in the index images")
    configs = ctx.subdir("configs")
    ctx.images.extract_catalog(prepared.from_index.resolved, configs)
    source, layout_kept, pure = load_index_catalog_checked(configs)
    source_bundles = catalogs.bundle_names_by_image(source)
    source_digests = _by_digest(list(source_bundles), "source")
    missing: list[str] = []
    if target:
        target_dir = ctx.subdir("target-configs")
        ctx.images.extract_catalog(target.resolved, target_dir)
        target_bundles = catalogs.bundle_names_by_image(catalogs.load(target_dir))
        source_names = set(source_bundles.values())
        for digest, image in _by_digest(list(target_bundles), "target").items():
            if digest not in source_digests and target_bundles[image] not in source_names:
                missing.append(image)

    allow_missing_label = req.ignore_bundle_ocp_version and any(
        (req.target_index or "").startswith(e) or (req.source_from_index or "").startswith(e)
        for e in ctx.settings.no_ocp_label_allow_list
    )
    invalid: list[str] = []
    why: list[str] = []
    for image in [*missing, *source_bundles]:
        label = ctx.images.inspect(image).labels.get(rs.LABEL_OCP_VERSIONS)
        if not rs.bundle_ocp_version_valid(label, ocp_version, allow_missing_label):
            invalid.append(image)
            why.append(f"{image} ({label or 'no label'})")
    if invalid:
        # IIB only logs a count; the whole list tells why a merge can come out short, or empty.
        log(
            f"{len(invalid)} bundle(s) not meant for OCP {ocp_version} by their {rs.LABEL_OCP_VERSIONS} "
            f"label, to be deprecated: {', '.join(why)}"
        )

    ctx.reporter.progress("Adding bundles missing in source index image")
    changed: set[str] = set()
    rendered = [
        catalogs.render_bundle(
            ctx.images.extract_bundle(b, ctx.subdir(f"bundle-{i}")),
            rs.catalog_pull_spec(b, ctx.settings.oci_layout_registry),
        )
        for i, b in enumerate(missing)
    ]
    catalog = source
    if rendered:
        added = catalogs.add_bundles(
            source,
            rendered,
            req.graph_update_mode or "replaces",
            overwrite_latest=prepared.distribution_scope in ("dev", "stage"),
        )
        catalog = added.config
        changed |= set(added.changed) | set(added.removed)

    deprecate = list(invalid)
    if req.deprecation_list:
        resolved = [ctx.images.inspect(d, labels=False).bundle_resolved for d in req.deprecation_list]
        deprecate += rs.deprecated_bundles(catalogs.bundle_images(catalog), resolved)
    if deprecate:
        ctx.reporter.progress("Deprecating bundles in the deprecation list")
        latest = catalogs.latest_per_package(catalog, rs.unique(deprecate))
        deprecated = catalogs.deprecate_bundles(catalog, latest)
        catalog = deprecated.config
        changed |= set(deprecated.changed) | set(deprecated.removed)

    catalogs.validate(catalog)
    if not catalog.bundles:
        hint = " (its bundles were all deprecated, above)" if deprecate else ""
        log(f"note: the merged catalog is empty{hint}")
    catalogs.write_packages(catalog, configs, changed)
    fields, results = build_push_and_overwrite(
        ctx,
        prepared,
        configs,
        build_tags=req.build_tags,
        changed_packages=changed,
        layout_kept=layout_kept,
        validated=True,  # the whole merged catalog, above
        pure=pure,
        index=req.target_index,
        index_resolved=target.resolved if target else None,
        overwrite=bool(req.overwrite_target_index and target),
        token=token,
    )
    fields.update(
        source_from_index=req.source_from_index,
        source_from_index_resolved=prepared.from_index.resolved,
        target_index=req.target_index,
        target_index_resolved=target.resolved if target else None,
        deprecation_list=req.deprecation_list,
        graph_update_mode=req.graph_update_mode,
        ignore_bundle_ocp_version=req.ignore_bundle_ocp_version,
        build_tags=req.build_tags,
        state="complete",
        state_reason=DONE,
    )
    for key in ("internal_index_image_copy", "internal_index_image_copy_resolved", "index_image_resolved"):
        results.pop(key, None)
    results["source_from_index_resolved"] = prepared.from_index.resolved
    results["target_index_resolved"] = fields["target_index_resolved"] or ""
    results.pop("from_index_resolved", None)
    ctx.reporter.update(
        arches=prepared.arches,
        index_image=fields["index_image"],
        source_from_index_resolved=prepared.from_index.resolved,
        target_index_resolved=fields["target_index_resolved"],
    )
    ctx.reporter.complete(DONE)
    return ctx.finish("merge-index-image", fields, results)
