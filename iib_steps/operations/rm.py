"""rm: operators out of an index image (spec/iib.md §4.2)."""

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
    prepare_and_extract,
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
    operators = rs.unique(req.operators)
    prepared, source = prepare_and_extract(ctx, req, touched=operators)
    catalog = catalogs.remove_packages(source.load(), operators).config
    catalogs.validate(catalog)
    catalogs.write_packages(catalog, source.configs, operators)
    fields, results = build_push_and_overwrite(
        ctx,
        prepared,
        source.configs,
        build_tags=req.build_tags,
        changed_packages=operators,
        source=source,
        validated=True,
        index=req.from_index,
        index_resolved=prepared.from_index.resolved,
        overwrite=req.overwrite_from_index,
        token=token,
    )
    fields.update(removed_operators=operators, build_tags=req.build_tags, state="complete", state_reason=DONE)
    report_index_done(ctx, fields, DONE)
    return ctx.finish("rm", fields, results)
