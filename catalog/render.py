"""``opm render``: a bundle directory to its ``olm.bundle`` blob, a catalog directory to its blobs.

For a bundle directory the blob is built as opm v1.73.0 builds it: properties (``olm.gvk`` from CRDs
and owned API services, ``olm.gvk.required``, ``olm.package``, ``olm.package.required`` and other
dependencies, ``metadata/properties.yaml`` and the CSV's ``olm.properties`` annotation, one
``olm.bundle.object`` per manifest) sorted by type then compact value, bundle objects last;
related images from the CSV, the bundle image and the deployments' containers, sorted by image.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from catalog import declcfg as d
from catalog.bundle_dir import BundleDir, BundleMetadata, is_bundle_dir, read_bundle_dir, read_bundle_metadata
from catalog.errors import CatalogError
from catalog.gosort import go_sort_slice
from catalog.jsonutil import compact_ordered, go_g, html_raw, marshal_html
from catalog.load import load_fs
from catalog.migrations import check_level, migrate

__all__ = [
    "BundleAnnotations",
    "bundle_annotations",
    "bundle_dir_properties",
    "expand_image_ref_template",
    "render",
    "render_bundle_dir",
    "render_reference",
]


@dataclass(frozen=True, slots=True)
class BundleAnnotations:
    """The channel annotations and labels of ``metadata/annotations.yaml`` (for legacy add modes)."""

    package: str
    channels: tuple[str, ...]
    default_channel: str
    labels: dict[str, str]  # every annotation, as the bundle image's labels


def bundle_annotations(path: Path | str) -> BundleAnnotations:
    """Package, channels, default channel and all annotations of a bundle directory's metadata."""
    meta: BundleMetadata = read_bundle_metadata(path)
    labels = {str(k): v if isinstance(v, str) else _label_text(v) for k, v in meta.annotations.items()}
    return BundleAnnotations(meta.package, tuple(meta.channels), meta.default_channel, labels)


def _label_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return compact_ordered(value).decode()


# --------------------------------------------------------------------------------------------------
# Properties


def _gvk(group: str, kind: str, version: str) -> dict[str, str]:
    return {"group": group, "kind": kind, "version": version}


def _str_field(obj: Any, *path: str) -> str:
    for key in path:
        if not isinstance(obj, dict):
            return ""
        obj = obj.get(key)
    return obj if isinstance(obj, str) else ""


def _list_field(obj: Any, *path: str) -> list[Any]:
    for key in path:
        if not isinstance(obj, dict):
            return []
        obj = obj.get(key)
    return obj if isinstance(obj, list) else []


def _api_key_text(group: str, version: str, kind: str, plural: str) -> str:
    return "{" + " ".join((group, version, kind, plural)) + "}"


def _provided_apis(bundle: BundleDir) -> dict[tuple[str, str, str, str], None]:
    """(group, version, kind, plural) of every CRD version and every owned API service."""
    provided: dict[tuple[str, str, str, str], None] = {}
    for obj in bundle.objects:
        if obj.get("kind") != "CustomResourceDefinition":
            continue
        api_version = obj.get("apiVersion") if isinstance(obj.get("apiVersion"), str) else ""
        version = api_version.rsplit("/", 1)[-1]
        if version not in ("v1", "v1beta1"):
            continue
        group = _str_field(obj, "spec", "group")
        kind = _str_field(obj, "spec", "names", "kind")
        plural = _str_field(obj, "spec", "names", "plural")
        for v in _list_field(obj, "spec", "versions"):
            provided[(group, _str_field(v, "name"), kind, plural)] = None
        if version == "v1beta1" and _str_field(obj, "spec", "version"):
            provided[(group, _str_field(obj, "spec", "version"), kind, plural)] = None
    for api in _list_field(bundle.csv, "spec", "apiservicedefinitions", "owned"):
        provided[
            (
                _str_field(api, "group"),
                _str_field(api, "version"),
                _str_field(api, "kind"),
                _str_field(api, "name"),
            )
        ] = None
    return provided


def _check_owned_crds(bundle: BundleDir, provided: dict[tuple[str, str, str, str], None]) -> None:
    for crd in _list_field(bundle.csv, "spec", "customresourcedefinitions", "owned"):
        name = _str_field(crd, "name")
        plural, dot, group = name.partition(".")
        if not dot:
            raise CatalogError(
                f"error checking provided apis in bundle {bundle.name}: "
                f"couldn't parse plural.group from crd name: {name}"
            )
        key = (group, _str_field(crd, "version"), _str_field(crd, "kind"), plural)
        if key not in provided:
            found = " ".join(f"{_api_key_text(*k)}:{{}}" for k in sorted(provided))
            raise CatalogError(
                f"error checking provided apis in bundle {bundle.name}: "
                f"couldn't find {_api_key_text(*key)} in bundle. found: map[{found}]"
            )


def _required_apis(bundle: BundleDir) -> list[tuple[str, str, str]]:
    required: dict[tuple[str, str, str], None] = {}
    for crd in _list_field(bundle.csv, "spec", "customresourcedefinitions", "required"):
        name = _str_field(crd, "name")
        _, dot, group = name.partition(".")
        if not dot:
            raise CatalogError(
                f'get properties for bundle "{bundle.name}": get required apis: '
                f"couldn't parse plural.group from crd name: {name}"
            )
        required[(group, _str_field(crd, "kind"), _str_field(crd, "version"))] = None
    for api in _list_field(bundle.csv, "spec", "apiservicedefinitions", "required"):
        required[(_str_field(api, "group"), _str_field(api, "kind"), _str_field(api, "version"))] = None
    return list(required)


def _csv_version(bundle: BundleDir) -> str:
    spec = bundle.csv.get("spec")
    value = spec.get("version") if isinstance(spec, dict) else None
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CatalogError(
            f'get properties for bundle "{bundle.name}": get version: '
            "json: cannot unmarshal number into Go value of type string"
        )
    return value


def _csv_release(bundle: BundleDir) -> str:
    spec = bundle.csv.get("spec")
    value = spec.get("release") if isinstance(spec, dict) else None
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        f = float(value)
        if f.is_integer() and abs(f) < 2**63:
            return str(int(f))
        return go_g(f)
    raise CatalogError(
        f'get properties for bundle "{bundle.name}": get release: release field must be a string or number'
    )


def _package_value(name: str, version: str, release: str) -> dict[str, str]:
    value = {"packageName": name, "version": version}
    if release:
        value["release"] = release
    return value


def _annotation_properties(bundle: BundleDir) -> list[dict[str, Any]]:
    """The CSV's ``olm.properties`` annotation (a JSON list of properties); ignored if it is not one."""
    meta = bundle.csv.get("metadata")
    anns = meta.get("annotations") if isinstance(meta, dict) else None
    text = anns.get("olm.properties") if isinstance(anns, dict) else None
    if not isinstance(text, str):
        return []
    try:
        items = orjson.loads(text)
    except orjson.JSONDecodeError:
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return []
    return [
        {"type": i.get("type") if isinstance(i.get("type"), str) else "", "value": i.get("value")}
        for i in items
    ]


def _value_key(value: Any) -> bytes:
    return compact_ordered(value)


def bundle_dir_properties(bundle: BundleDir) -> list[d.Property]:
    """Every property opm derives for a bundle directory, in opm's order (bundle objects last)."""
    meta = bundle.metadata
    version = _csv_version(bundle)
    release = _csv_release(bundle)

    # bundle.Properties = set(properties file + derived), derived = [olm.package from the annotations]
    # + CSV olm.properties annotation + provided GVKs.
    provided = _provided_apis(bundle)
    _check_owned_crds(bundle, provided)
    declared: list[dict[str, Any]] = [
        {"type": p["type"], "value": html_raw(p["value"])} for p in meta.properties or ()
    ]
    derived: list[dict[str, Any]] = []
    if meta.package:
        derived.append({"type": d.PROP_PACKAGE, "value": _package_value(meta.package, version, release)})
    derived.extend(_annotation_properties(bundle))
    derived.extend({"type": d.PROP_GVK, "value": _gvk(g, k, v)} for (g, v, k, _p) in provided)
    bundle_props = _dedupe(declared + _dedupe(derived))

    provided_gvks: dict[tuple[str, str, str], None] = {}
    package_prop: dict[str, Any] | None = None
    others: list[tuple[str, Any]] = []
    for p in bundle_props:
        typ, value = p["type"], p["value"]
        if typ == d.PROP_GVK:
            v = value if isinstance(value, dict) else {}
            provided_gvks[(_str_field(v, "group"), _str_field(v, "kind"), _str_field(v, "version"))] = None
        elif typ == d.PROP_PACKAGE:
            v = value if isinstance(value, dict) else {}
            package_prop = _package_value(
                _str_field(v, "packageName"), _str_field(v, "version"), _str_field(v, "release")
            )
        else:
            others.append((typ, value))

    required_gvks: dict[tuple[str, str, str], None] = {}
    package_required: list[dict[str, str]] = []
    for dep in meta.dependencies or ():
        typ, value = dep["type"], dep["value"]
        v = value if isinstance(value, dict) else {}
        if typ == d.PROP_GVK:
            required_gvks[(_str_field(v, "group"), _str_field(v, "kind"), _str_field(v, "version"))] = None
        elif typ == d.PROP_PACKAGE:
            package_required.append(
                {"packageName": _str_field(v, "packageName"), "versionRange": _str_field(v, "version")}
            )
        else:
            others.append((typ, html_raw(value)))
    for gvk in _required_apis(bundle):
        required_gvks.setdefault(gvk, None)
    for gvk in provided:
        provided_gvks.setdefault((gvk[0], gvk[2], gvk[1]), None)

    props: list[tuple[str, Any]] = [
        (d.PROP_BUNDLE_OBJECT, {"data": base64.b64encode(marshal_html(obj)).decode()})
        for obj in bundle.objects
    ]
    if package_prop is None:
        package_prop = _package_value(meta.package, version, release)
    props.append((d.PROP_PACKAGE, package_prop))
    props.extend((d.PROP_GVK, _gvk(*g)) for g in provided_gvks)
    props.extend((d.PROP_GVK_REQUIRED, _gvk(*g)) for g in required_gvks)
    props.extend((d.PROP_PACKAGE_REQUIRED, v) for v in package_required)
    props.extend(others)
    go_sort_slice(props, key=lambda p: (p[0].encode(), _value_key(p[1])))
    last = (d.PROP_BUNDLE_OBJECT, d.PROP_CSV_METADATA)
    ordered = [p for p in props if p[0] not in last] + [p for p in props if p[0] in last]
    return [d.Property(t, v) for t, v in ordered]


def _dedupe(props: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[str, bytes]] = set()
    out = []
    for p in props:
        key = (p["type"], _value_key(p["value"]))
        if key in seen:
            continue
        seen.add(key)
        out.append(p)
    return out


def _typed(bundle: BundleDir, obj: Any, path: tuple[str, ...], want: type) -> Any:
    """``obj[path...]`` when it has the JSON type Go expects there, None when absent or null;
    CatalogError when present with another type (opm fails to decode the CSV spec then)."""
    for key in path:
        if obj is None:
            return None
        if not isinstance(obj, dict):
            break
        obj = obj.get(key)
    else:
        if obj is None or isinstance(obj, want):
            return obj
    kind = {str: "string", bool: "bool", dict: "object", list: "array"}.get(type(obj), "number")
    raise CatalogError(
        f'get related images for bundle "{bundle.name}": json: cannot unmarshal {kind} '
        f"into the CSV's install strategy field {'.'.join(path)}"
    )


def _related_images(bundle: BundleDir, bundle_image: str) -> list[d.RelatedImage]:
    spec = bundle.csv.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    images: list[d.RelatedImage] = []
    raw = spec.get("relatedImages")
    if raw is not None:
        if not isinstance(raw, list):
            raise CatalogError(
                f'get related images for bundle "{bundle.name}": json: cannot unmarshal '
                "object into Go value of type []declcfg.RelatedImage"
            )
        for item in raw:
            item = item if isinstance(item, dict) else {}
            images.append(d.RelatedImage(name=_str_field(item, "name"), image=_str_field(item, "image")))
    seen = {r.image for r in images}
    if bundle_image and bundle_image not in seen:
        images.append(d.RelatedImage(name="", image=bundle_image))
    install = spec.get("install")
    if _str_field(install, "strategy") == "deployment":
        operator_images: dict[str, None] = {}
        for dep in _typed(bundle, install, ("spec", "deployments"), list) or ():
            pod = _typed(bundle, dep, ("spec", "template", "spec"), dict) or {}
            for key in ("containers", "initContainers"):
                for c in _typed(bundle, pod, (key,), list) or ():
                    operator_images[_str_field(c, "image")] = None
        for img in operator_images:
            if img not in seen:
                images.append(d.RelatedImage(name="", image=img))
            seen.add(img)
    go_sort_slice(images, key=lambda r: r.image.encode())
    return images


# --------------------------------------------------------------------------------------------------
# Image reference template (Go text/template with .Package, .Name, .Version)

_ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.S)
_FIELDS = ("Package", "Name", "Version")


def expand_image_ref_template(template: str, package: str, name: str, version: str) -> str:
    """Execute an ``--alpha-image-ref-template`` (fields ``.Package``, ``.Name``, ``.Version``)."""
    values = {"Package": package, "Name": name, "Version": version}
    out: list[str] = []
    pos = 0
    for m in _ACTION.finditer(template):
        text = template[pos : m.start()]
        if m.group(1):
            text = text.rstrip(" \t\r\n")
        out.append(text)
        expr = m.group(2)
        if expr.startswith("/*") and expr.endswith("*/"):
            pass
        elif expr.startswith(".") and expr[1:] in values:
            out.append(values[expr[1:]])
        elif expr.startswith('"') and expr.endswith('"') and len(expr) >= 2:
            out.append(orjson.loads(expr))
        else:
            field = expr[1:] if expr.startswith(".") else expr
            raise CatalogError(
                f"template: image-ref-template:1: can't evaluate {field!r}: "
                f"only {{{{.Package}}}}, {{{{.Name}}}} and {{{{.Version}}}} are available"
            )
        pos = m.end()
        if m.group(3):
            rest = template[pos:]
            pos += len(rest) - len(rest.lstrip(" \t\r\n"))
    tail = template[pos:]
    if "{{" in tail:
        raise CatalogError("template: image-ref-template:1: unclosed action")
    out.append(tail)
    return "".join(out)


# --------------------------------------------------------------------------------------------------
# Rendering


def render_bundle_dir(
    path: Path | str,
    *,
    image: str | None = None,
    image_ref_template: str | None = None,
    migrate_level: str = "none",
) -> d.Bundle:
    """A bundle directory as the one ``olm.bundle`` blob ``opm render <dir>`` prints.

    ``image``: the pull spec of the bundle image this directory was unpacked from, taken verbatim;
    the blob then is what ``opm render <image>`` prints (the image recorded and listed in
    relatedImages). ``image_ref_template`` (``opm render --alpha-image-ref-template``) instead makes
    the image from the bundle's ``{{.Package}}``, ``{{.Name}}`` and ``{{.Version}}``.
    """
    bundle = read_bundle_dir(path)
    properties = bundle_dir_properties(bundle)
    if image is None:
        image = ""
    elif image_ref_template is not None:
        raise CatalogError("an image reference and an image reference template exclude each other")
    if image_ref_template is not None:
        # opm takes the version of the first olm.package property of the parsed bundle.
        version = _template_version(bundle)
        image = expand_image_ref_template(image_ref_template, bundle.metadata.package, bundle.name, version)
    related = _related_images(bundle, image)
    blob = d.Bundle(
        name=bundle.name,
        package=bundle.metadata.package,
        image=image,
        properties=properties,
        related_images=related,
    )
    cfg = d.DeclarativeConfig(bundles=[blob])
    migrate(cfg, migrate_level, csvs={id(blob): bundle.csv})
    return cfg.bundles[0]


def _template_version(bundle: BundleDir) -> str:
    for p in bundle.metadata.properties or ():
        if p["type"] == d.PROP_PACKAGE:
            return _str_field(p["value"], "version")
    if bundle.metadata.package:
        return _csv_version(bundle)
    for p in _annotation_properties(bundle):
        if p["type"] == d.PROP_PACKAGE:
            return _str_field(p["value"], "version")
    return ""


def render_reference(
    ref: Path | str,
    image_ref_template: str | None = None,
    migrate_level: str = "none",
) -> d.DeclarativeConfig:
    """One ``opm render`` reference: a bundle directory, a catalog directory or a SQLite ``index.db``
    (images are not read here: unpack them and render the directory)."""
    path = Path(ref)
    if not path.exists():
        raise CatalogError(
            f"render reference {_go_quote(str(ref))}: no such directory "
            "(bundle and index images are rendered by the image steps)"
        )
    try:
        if is_bundle_dir(path):
            return d.DeclarativeConfig(
                bundles=[
                    render_bundle_dir(
                        path, image_ref_template=image_ref_template, migrate_level=migrate_level
                    )
                ]
            )
        if path.is_dir():
            cfg = load_fs(path)
        else:
            from catalog.sqlite.read import read_index_db
            from catalog.sqlite.schema import is_sqlite_file

            if not is_sqlite_file(path):
                raise CatalogError(
                    f"ref {_go_quote(str(ref))} has unsupported file type: "
                    "only directories and SQLite index databases can be rendered"
                )
            cfg = read_index_db(path)
        _move_objects_last(cfg)
        for b in cfg.bundles:
            go_sort_slice(b.related_images, key=lambda r: r.image.encode())
        migrate(cfg, migrate_level)
        return cfg
    except CatalogError as exc:
        raise CatalogError(f"render reference {_go_quote(str(ref))}: {exc}") from None


def _go_quote(s: str) -> str:
    return orjson.dumps(s).decode()


def _move_objects_last(cfg: d.DeclarativeConfig) -> None:
    last = (d.PROP_BUNDLE_OBJECT, d.PROP_CSV_METADATA)
    for b in cfg.bundles:
        b.properties = [p for p in b.properties if p.type not in last] + [
            p for p in b.properties if p.type in last
        ]


def render(
    refs: Iterable[Path | str],
    image_ref_template: str | None = None,
    migrate_level: str = "none",
) -> d.DeclarativeConfig:
    """``opm render ref...``: every reference's blobs, merged in order."""
    check_level(migrate_level)
    out = d.DeclarativeConfig()
    for ref in refs:
        out.extend(render_reference(ref, image_ref_template, migrate_level))
    return out
