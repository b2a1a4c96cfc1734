"""fbc-operations: FBC fragment images replace their packages in an index image (spec/iib.md §4.5)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
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


@dataclass
class FbcRequest:
    from_index: str | None = None
    fbc_fragment: str | None = None
    fbc_fragments: list[str] = field(default_factory=list)
    binary_image: str | None = None
    add_arches: list[str] = field(default_factory=list)
    distribution_scope: str | None = None
    build_tags: list[str] = field(default_factory=list)
    overwrite_from_index: bool = False
    overwrite_from_index_token: str | None = None

    @property
    def used_fbc_fragment(self) -> bool:
        return self.fbc_fragment is not None

    def check(self) -> rs.OverwriteToken | None:
        if self.fbc_fragment is not None and self.fbc_fragments:
            raise StepError('Cannot provide both "fbc_fragment" and "fbc_fragments" parameters')
        if self.fbc_fragment is None and not self.fbc_fragments:
            raise StepError('Either "fbc_fragment" or "fbc_fragments" must be provided')
        if self.fbc_fragment is not None and not self.fbc_fragment:
            raise StepError('"fbc_fragment" must be a string')
        if any(not f for f in self.fbc_fragments):
            raise StepError(
                '"fbc_fragments" should be either an empty array or an array of non-empty strings'
            )
        if not self.from_index:
            raise StepError("Missing required parameter(s): from_index")
        rs.normalize_scope(self.distribution_scope)
        return rs.parse_overwrite(self.overwrite_from_index, self.overwrite_from_index_token)

    def fragments(self) -> list[str]:
        return [self.fbc_fragment] if self.fbc_fragment else rs.unique(self.fbc_fragments)


def _copy_fragments(ctx: Context, configs: Path, packages_of: list[tuple[Path, list[str]]]) -> list[str]:
    """Each fragment's package directories replace the index's under ``configs``."""
    changed: list[str] = []
    for i, (frag_dir, packages) in enumerate(packages_of, start=1):
        ctx.reporter.progress(
            f"Adding package(s) {packages} from fbc fragment {i}/{len(packages_of)} to from_index"
        )
        for package in packages:
            target = configs / package
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(frag_dir / package, target)
            changed.append(package)
    return changed


def run(ctx: Context, req: FbcRequest) -> dict[str, Any]:
    token = req.check()
    check_overwrite_token(ctx, req.from_index, token)
    fragments = req.fragments()
    ctx.reporter.progress("Resolving the fbc fragments")
    resolved = [ctx.images.inspect(f, labels=False).resolved for f in fragments]
    ctx.reporter.update(
        fbc_fragments_resolved=resolved,
        fbc_fragment_resolved=resolved[0] if req.used_fbc_fragment else None,
    )
    packages_of: list[tuple[Path, list[str]]] = []
    for i, fragment in enumerate(resolved, start=1):
        frag_dir = ctx.subdir(f"fbc-fragment-{i}")
        ctx.images.extract_catalog(fragment, frag_dir)
        packages = sorted(p.name for p in frag_dir.iterdir() if p.is_dir())
        if not packages:
            raise StepError(f"No operator packages in fbc_fragment {fragments[i - 1]}")
        packages_of.append((frag_dir, packages))
    prepared, source = prepare_and_extract(
        ctx, req, touched=[p for _, packages in packages_of for p in packages]
    )
    configs = source.configs
    changed = _copy_fragments(ctx, configs, packages_of)
    was_incremental = source.incremental
    catalog = source.load()
    if was_incremental and not source.incremental:  # the fragments broke the layout: copy them again
        changed = _copy_fragments(ctx, configs, packages_of)
        catalog = source.load()
    catalogs.validate(catalog)
    fields, results = build_push_and_overwrite(
        ctx,
        prepared,
        configs,
        build_tags=req.build_tags,
        changed_packages=changed,
        source=source,
        validated=True,
        index=req.from_index,
        index_resolved=prepared.from_index.resolved,
        overwrite=req.overwrite_from_index,
        token=token,
    )
    done = f"The {len(resolved)} FBC fragment(s) were successfully added in the index image"
    fields.update(
        fbc_fragment=req.fbc_fragment,
        fbc_fragment_resolved=resolved[0] if req.used_fbc_fragment else None,
        fbc_fragments=fragments,
        fbc_fragments_resolved=resolved,
        used_fbc_fragment=req.used_fbc_fragment,
        build_tags=req.build_tags,
        state="complete",
        state_reason=done,
    )
    report_index_done(ctx, fields, done)
    return ctx.finish("fbc-operations", fields, results)
