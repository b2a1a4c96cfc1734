"""rm: operators out of an index image (spec/iib.md §4.2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from iib_steps import resolve as rs
from iib_steps.errors import StepError
from iib_steps.operations import catalogs
from iib_steps.operations.common import (
    Context,
    build_and_push_index,
    check_overwrite_token,
    index_results,
    load_index_catalog,
    overwrite_from_index,
    prepare_request_for_build,
    report_index_done,
)

DONE = "The operator(s) were successfully removed from the index image"


@dataclass
class RmRequest:
    operators: list[str] = field(default_factory=list)
    from_index: str | None = None
    binary_image: str | None = None
    add_arches: list[str] = field(default_factory=list)
    distribution_scope: str | None = None
    build_tags: list[str] = field(default_factory=list)
    overwrite_from_index: bool = False
    overwrite_from_index_token: str | None = None

    def check(self) -> rs.OverwriteToken | None:
        if not self.operators or any(not o for o in self.operators):
            raise StepError('"operators" should be a non-empty array of strings')
        if not self.from_index:
            raise StepError("Missing required parameter(s): from_index")
        rs.normalize_scope(self.distribution_scope)
        return rs.parse_overwrite(self.overwrite_from_index, self.overwrite_from_index_token)


def run(ctx: Context, req: RmRequest) -> dict[str, Any]:
    token = req.check()
    check_overwrite_token(ctx, req.from_index, token)
    prepared = prepare_request_for_build(
        ctx,
        from_index=req.from_index,
        binary_image=req.binary_image,
        add_arches=req.add_arches,
        distribution_scope=req.distribution_scope,
    )
    assert prepared.from_index is not None
    configs = ctx.subdir("configs")
    ctx.images.extract_catalog(prepared.from_index.resolved, configs)
    catalog, layout_kept = load_index_catalog(configs)
    operators = rs.unique(req.operators)
    catalog = catalogs.remove_packages(catalog, operators).config
    catalogs.validate(catalog)
    catalogs.write_packages(catalog, configs, operators)
    built = build_and_push_index(
        ctx,
        prepared,
        configs,
        tags=rs.output_tags(ctx.request_id, req.build_tags),
        changed_packages=operators,
        previous_index=prepared.from_index.resolved if layout_kept else None,
    )
    overwritten = False
    if req.overwrite_from_index:
        overwrite_from_index(ctx, req.from_index or "", prepared.from_index.resolved or "", built, token)
        overwritten = True
    fields, results = index_results(ctx, prepared, built, from_index=req.from_index, overwritten=overwritten)
    fields.update(removed_operators=operators, build_tags=req.build_tags, state="complete", state_reason=DONE)
    report_index_done(ctx, fields, DONE)
    return ctx.finish("rm", fields, results)
