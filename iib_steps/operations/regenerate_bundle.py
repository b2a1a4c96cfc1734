"""regenerate-bundle (and its batch): a bundle image rebuilt with pinned pull specs and the
organization's customizations (spec/iib.md §4.7, §6); recursive-related-bundles (§4.8)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from iib_steps import resolve as rs
from iib_steps.errors import StepError
from iib_steps.operations.common import Context, log
from iib_steps.operations.imaging import ImageIO
from iib_steps.regenerate.customize import adjust_bundle, found_pullspecs, is_bundle_image, load_manifest
from iib_steps.regenerate.related import recursive_related_bundles
from iib_steps.results import request_json, write_json_file

DONE = "The request completed successfully"


@dataclass
class RegenerateRequest:
    from_bundle_image: str | None = None
    organization: str | None = None
    bundle_replacements: dict[str, str] = field(default_factory=dict)

    def check(self) -> None:
        if not self.from_bundle_image:
            raise StepError('"from_bundle_image" must be set')
        for key, value in self.bundle_replacements.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise StepError(f'The key and value of "{key}" must be a string')


def check_registry_auths(value: object) -> dict[str, dict[str, str]]:
    """IIB's rules for ``registry_auths`` (a docker config.json); returns its ``auths``."""
    if not isinstance(value, dict):
        raise StepError('"registry_auths" must be a dict')
    if list(value) != ["auths"]:
        raise StepError('"registry_auths" must contain single key "auths"')
    auths = value["auths"]
    if not isinstance(auths, dict) or not auths:
        raise StepError('"registry_auths.auths" must be a non-empty dict')
    for registry, entry in auths.items():
        if not isinstance(entry, dict) or list(entry) != ["auth"] or not isinstance(entry["auth"], str):
            raise StepError(
                f"{registry} in registry_auths has auth value in incorrect format. "
                "See the API docs for details on the expected format"
            )
    return auths


class _Inspector:
    """Customizations read images through the step's image code."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._labels: dict[str, dict[str, str]] = {}

    def resolve(self, pull_spec: str) -> str:
        return self.ctx.images.inspect(pull_spec, labels=False).resolved

    def labels(self, pull_spec: str) -> dict[str, str]:
        if pull_spec not in self._labels:
            self._labels[pull_spec] = self.ctx.images.inspect(pull_spec).labels
        return self._labels[pull_spec]


def regenerate(
    ctx: Context,
    req: RegenerateRequest,
    *,
    output_tag: str | None = None,
    related_bundles_file: str | None = None,
) -> dict[str, Any]:
    """Regenerate one bundle; returns the request JSON fields."""
    req.check()
    ctx.reporter.progress("Resolving from_bundle_image")
    info = ctx.images.inspect(req.from_bundle_image or "")
    arches = sorted(info.arches)
    ctx.reporter.progress(
        f"Regenerating the bundle image for the following arches: {', '.join(arches)}",
        from_bundle_image_resolved=info.resolved,
    )
    pinned = str(info.labels.get(rs.LABEL_PINNED, "")).lower() == "true"
    bundle_dir = ctx.images.extract_bundle(info.resolved, ctx.subdir("bundle"))
    adjusted = adjust_bundle(
        bundle_dir / "manifests",
        bundle_dir / "metadata",
        ctx.settings.customizations_for(req.organization),
        _Inspector(ctx),
        organization=req.organization,
        pinned_by_iib=pinned,
        bundle_replacements=req.bundle_replacements,
    )
    labels = dict(adjusted.labels)
    if pinned:
        labels.setdefault(rs.LABEL_PINNED, "true")
    output = ctx.output_spec(output_tag or ctx.request_id)
    built = ctx.images.build_bundle(
        base_resolved=info.resolved, bundle_dir=bundle_dir, labels=labels, arches=arches, output=output
    )
    if adjusted.related_bundles is not None and related_bundles_file:
        write_json_file(related_bundles_file, adjusted.related_bundles)
    ctx.reporter.update(
        arches=arches, bundle_image=output, bundle_replacements=req.bundle_replacements or None
    )
    ctx.reporter.complete(DONE)
    return {
        "arches": arches,
        "bundle_image": output,
        "bundle_image_resolved": rs.with_digest(output, built.digest),
        "bundle_digest": built.digest,
        "from_bundle_image": req.from_bundle_image,
        "from_bundle_image_resolved": info.resolved,
        "organization": req.organization,
        "bundle_replacements": req.bundle_replacements,
        "related_bundles_list": adjusted.related_bundles,
        "package_name": adjusted.package_name,
        "state": "complete",
        "state_reason": DONE,
    }


def run(ctx: Context, req: RegenerateRequest, related_bundles_file: str | None = None) -> dict[str, Any]:
    fields = regenerate(ctx, req, related_bundles_file=related_bundles_file)
    results = {
        "IMAGE_URL": fields["bundle_image"],
        "IMAGE_DIGEST": fields["bundle_digest"],
        "IMAGE_REF": fields["bundle_image_resolved"],
        "bundle_image": fields["bundle_image"],
        "from_bundle_image_resolved": fields["from_bundle_image_resolved"],
        "arches": fields["arches"],
        "package_name": fields["package_name"],
    }
    return ctx.finish("regenerate-bundle", fields, results)


def run_batch(ctx: Context, requests: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each build request of a regenerate-bundle-batch, in order; tagged ``<request id>-<index>``."""
    if not requests:
        raise StepError(
            'The input data must be a JSON object and the "build_requests" value must be a non-empty array'
        )
    parsed: list[RegenerateRequest] = []
    auths: list[dict[str, Any] | None] = []
    for i, item in enumerate(requests):
        try:
            if not isinstance(item, Mapping):
                raise StepError("Build request is not a valid regenerate-bundle request")
            unknown = set(item) - {
                "from_bundle_image",
                "organization",
                "bundle_replacements",
                "registry_auths",
            }
            if unknown:
                raise StepError(f"The following parameters are invalid: {', '.join(sorted(unknown))}")
            req = RegenerateRequest(
                from_bundle_image=item.get("from_bundle_image"),
                organization=item.get("organization"),
                bundle_replacements=dict(item.get("bundle_replacements") or {}),
            )
            req.check()
            auths.append(check_registry_auths(item["registry_auths"]) if "registry_auths" in item else None)
        except StepError as exc:
            raise StepError(f"{exc}. This occurred on the build request in index {i}.") from None
        parsed.append(req)
    out = []
    default_images = ctx.images
    for i, req in enumerate(parsed):
        log(f"regenerate-bundle-batch: request {i + 1}/{len(parsed)}: {req.from_bundle_image}")
        ctx.images = ImageIO(ctx.settings, registry_auths=auths[i]) if auths[i] else default_images
        out.append(regenerate(ctx, req, output_tag=f"{ctx.request_id}-{i}"))
    results = {
        "bundle_images": [f["bundle_image_resolved"] for f in out],
        "arches": sorted({a for f in out for a in f["arches"]}),
    }
    json_path, ctx.request_json_path = ctx.request_json_path, None
    ctx.finish("regenerate-bundle", out[-1], results)
    if json_path:
        write_json_file(json_path, [request_json("regenerate-bundle", f, ctx.request_id) for f in out])
    return out


@dataclass
class RecursiveRequest:
    parent_bundle_image: str | None = None
    organization: str | None = None


def run_recursive(ctx: Context, req: RecursiveRequest, output_file: str | None) -> dict[str, Any]:
    if not req.parent_bundle_image:
        raise StepError('"parent_bundle_image" must be a string')
    ctx.reporter.progress("Resolving parent_bundle_image")
    parent = ctx.images.inspect(req.parent_bundle_image, labels=False).resolved
    ctx.reporter.progress(
        f"Finding recursive related bundles for the bundle: {req.parent_bundle_image}",
        parent_bundle_image_resolved=parent,
    )
    inspector = _Inspector(ctx)
    counter = iter(range(1_000_000))

    def children_of(bundle: str) -> list[str]:
        bundle_dir = ctx.images.extract_bundle(bundle, ctx.subdir(f"related-{next(counter)}"))
        if req.organization:
            adjust_bundle(
                bundle_dir / "manifests",
                bundle_dir / "metadata",
                ctx.settings.customizations_for(req.organization),
                inspector,
                organization=req.organization,
                stop_before_related_bundles=True,
            )
        specs = found_pullspecs(load_manifest(bundle_dir / "manifests"))
        return [s.to_str() for s in specs if is_bundle_image(inspector.labels(s.to_str()))]

    found = recursive_related_bundles(parent, children_of, ctx.settings.max_recursive_related_bundles)
    ctx.reporter.progress("Writing recursive related bundles to a file")
    if output_file:
        write_json_file(output_file, found)
    ctx.reporter.complete(DONE)
    fields = {
        "parent_bundle_image": req.parent_bundle_image,
        "parent_bundle_image_resolved": parent,
        "organization": req.organization,
        "state": "complete",
        "state_reason": DONE,
    }
    results = {"parent_bundle_image_resolved": parent, "nested_bundles_count": str(len(found))}
    return ctx.finish("recursive-related-bundles", fields, results)
