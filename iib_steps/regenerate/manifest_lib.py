"""``operator-manifest``'s classes, imported without its ``pkg_resources`` deprecation warning.

operator-manifest 2.0 reads its CSV schema through ``pkg_resources`` (setuptools < 81), which warns
on import that it is deprecated; the warning says nothing to our users, so it is silenced here, for
that import only.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    from operator_manifest.operator import ImageName, OperatorCSV, OperatorManifest

__all__ = ["ImageName", "OperatorCSV", "OperatorManifest"]
