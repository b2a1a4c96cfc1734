"""create-empty-index: the from_index image with no operators (spec/iib.md §4.4)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from typing import Any

from iib_steps import resolve as rs
from iib_steps.errors import StepError
from iib_steps.operations import catalogs
from iib_steps.operations.common import (
    Context,
    build_and_push_index,
    index_results,
    prepare_request_for_build,
    report_index_done,
)

DONE = "The empty index image was successfully created"


@dataclass
class CreateEmptyRequest:
    from_index: str | None = None
    binary_image: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    distribution_scope: str | None = None

    def check(self) -> None:
        if not self.from_index:
            raise StepError('"from_index" must be a non-empty string')
        for key, value in self.labels.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise StepError(f'The key and value of "{key}" must be a string')
        rs.normalize_scope(self.distribution_scope)


def run(ctx: Context, req: CreateEmptyRequest) -> dict[str, Any]:
    req.check()
    prepared = prepare_request_for_build(
        ctx,
        from_index=req.from_index,
        binary_image=req.binary_image,
        distribution_scope=req.distribution_scope,
    )
    assert prepared.from_index is not None
    configs = ctx.subdir("configs")
    ctx.images.extract_catalog(prepared.from_index.resolved, configs)
    # The from_index catalog must be readable; its packages are what gets removed.
    removed = sorted(catalogs.load(configs).package_names())
    for entry in list(configs.iterdir()):
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    built = build_and_push_index(ctx, prepared, configs, tags=[ctx.request_id], extra_labels=req.labels)
    fields, results = index_results(ctx, prepared, built, from_index=req.from_index, overwritten=False)
    for key in ("internal_index_image_copy", "internal_index_image_copy_resolved"):
        results.pop(key, None)
    fields.update(labels=req.labels, state="complete", state_reason=DONE)
    results["removed_operators"] = removed
    report_index_done(ctx, fields, DONE, internal_copy=False)
    return ctx.finish("create-empty-index", fields, results)
