"""``opm validate``: load a catalog directory, convert it to the model, validate the model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from catalog.convert import convert_to_model
from catalog.declcfg import DeclarativeConfig
from catalog.errors import CatalogError
from catalog.goquote import go_quote
from catalog.load import load_fs

# Names the rules ``validate_config`` applies: bump it whenever they change, so that a validation
# record written by an older validator no longer spares a catalog from being validated in full.
VALIDATOR_VERSION = "opm-v1.73.0/iib-tekton-1"


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """What ``opm validate -o json`` reports: whether the catalog passed, and opm's message if not."""

    passed: bool
    message: str = ""


def validate_config(cfg: DeclarativeConfig) -> None:
    """Raise a CatalogError whose text is opm's full message when ``cfg`` is not a valid catalog."""
    convert_to_model(cfg)


def validate_dir(path: str | Path) -> ValidationResult:
    """Load the catalog under ``path`` and validate it; load errors count as failures, as in opm.

    A path that does not exist or is not a directory raises CatalogError (opm refuses it before
    validating anything).
    """
    root = Path(path)
    if not root.exists():
        raise CatalogError(f"stat {path}: no such file or directory")
    if not root.is_dir():
        raise CatalogError(f"{go_quote(str(path))} is not a directory")
    try:
        validate_config(load_fs(root, lift_objects=True))  # validated, then dropped
    except CatalogError as exc:
        return ValidationResult(False, str(exc))
    return ValidationResult(True)
