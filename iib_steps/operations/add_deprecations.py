"""add-deprecations: an ``olm.deprecations`` blob for one package of an index image (spec/iib.md §4.6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

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

DONE = "The deprecation schema was successfully added to the index image"


@dataclass
class AddDeprecationsRequest:
    operator_package: str | None = None
    deprecation_schema: str | None = None
    from_index: str | None = None
    binary_image: str | None = None
    add_arches: list[str] = field(default_factory=list)
    distribution_scope: str | None = None
    build_tags: list[str] = field(default_factory=list)
    overwrite_from_index: bool = False
    overwrite_from_index_token: str | None = None

    def check(self) -> tuple[Any, rs.OverwriteToken | None]:
        if not self.operator_package:
            raise StepError('"operator_package" should be a non-empty string')
        if not self.deprecation_schema:
            raise StepError('"deprecation_schema" should be a non-empty string')
        try:
            schema = orjson.loads(self.deprecation_schema)
        except orjson.JSONDecodeError:
            raise StepError('"deprecation_schema" string should be valid JSON') from None
        if not self.from_index:
            raise StepError("Missing required parameter(s): from_index")
        rs.normalize_scope(self.distribution_scope)
        return schema, rs.parse_overwrite(self.overwrite_from_index, self.overwrite_from_index_token)


def run(ctx: Context, req: AddDeprecationsRequest) -> dict[str, Any]:
    schema, token = req.check()
    check_overwrite_token(ctx, req.from_index, token)
    package = req.operator_package or ""
    prepared, source = prepare_and_extract(ctx, req, touched=[package])
    catalog = source.load()
    if package not in catalog.package_names():
        raise StepError(
            f"Cannot add deprecations for {package}, It is either not present in index or opted in fbc"
        )
    catalog = catalogs.add_deprecations(catalog, package, schema).config
    catalogs.validate(catalog)
    catalogs.write_packages(catalog, source.configs, [package])
    fields, results = build_push_and_overwrite(
        ctx,
        prepared,
        source.configs,
        build_tags=req.build_tags,
        changed_packages=[package],
        source=source,
        validated=True,
        index=req.from_index,
        index_resolved=prepared.from_index.resolved,
        overwrite=req.overwrite_from_index,
        token=token,
    )
    fields.update(operator_package=package, build_tags=req.build_tags, state="complete", state_reason=DONE)
    report_index_done(ctx, fields, DONE)
    return ctx.finish("add-deprecations", fields, results)
