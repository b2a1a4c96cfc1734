"""``metadata/annotations.yaml`` of a bundle: read it with IIB's checks, and rewrite the package name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, YAMLError

from iib_steps.errors import StepError
from iib_steps.resolve import LABEL_PACKAGE


def _yaml() -> YAML:
    y = YAML()
    y.width = 200
    y.preserve_quotes = True
    return y


def read_annotations(metadata_dir: Path) -> Any:
    """The parsed (round-trip) annotations.yaml; its package annotation must be a non-empty string."""
    path = Path(metadata_dir) / "annotations.yaml"
    if not path.is_file():
        raise StepError("metadata/annotations.yaml does not exist in the bundle")
    try:
        data = _yaml().load(path.read_text())
    except YAMLError:
        raise StepError("metadata/annotations.yaml is not valid YAML") from None
    if not isinstance(data, dict) or not isinstance(data.get("annotations", {}), dict):
        raise StepError("The value of metadata/annotations.yaml must be a dictionary")
    package = data.get("annotations", {}).get(LABEL_PACKAGE)
    if not package:
        raise StepError(f"{LABEL_PACKAGE} is not set in metadata/annotations.yaml")
    if not isinstance(package, str):
        raise StepError(f"The value of {LABEL_PACKAGE} in metadata/annotations.yaml is not a string")
    return data


def package_name(metadata_dir: Path) -> str:
    return str(read_annotations(metadata_dir)["annotations"][LABEL_PACKAGE])


def apply_package_name_suffix(metadata_dir: Path, suffix: str) -> tuple[str, dict[str, str]]:
    """Append ``suffix`` to the package annotation unless it already ends with it.

    Returns the package name and the labels the regenerated image must carry.
    """
    data = read_annotations(metadata_dir)
    current = str(data["annotations"][LABEL_PACKAGE])
    if current.endswith(suffix):
        return current, {}
    renamed = f"{current}{suffix}"
    data["annotations"][LABEL_PACKAGE] = renamed
    with (Path(metadata_dir) / "annotations.yaml").open("w") as out:
        _yaml().dump(data, out)
    return renamed, {LABEL_PACKAGE: renamed}
