"""Workspace bindings of a run: an ``emptyDir`` (a fresh folder per TaskRun, as a pod gets one), a
host folder (shared by every TaskRun of the run) or a secret read from a folder (one file per key).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iib_steps.tekton.runner.errors import RunError

EMPTY_DIR = "emptyDir"
FOLDER = "folder"
SECRET = "secret"
HOST_FOLDER_DRIVER = "iib.local/host-folder"
"""How a run object records a host folder binding (a CSI volume), read back the same way."""


@dataclass(frozen=True)
class WorkspaceBinding:
    """What one declared workspace is bound to; ``sub_path`` narrows it to a subfolder."""

    kind: str
    path: Path | None = None
    sub_path: str = ""
    secret_name: str = ""

    def spec_entry(self, name: str) -> dict[str, Any]:
        """The run's ``spec.workspaces[]`` entry (a host folder is written as a CSI volume)."""
        out: dict[str, Any] = {"name": name}
        if self.kind == EMPTY_DIR:
            out["emptyDir"] = {}
        elif self.kind == SECRET:
            out["secret"] = {"secretName": self.secret_name or (self.path.name if self.path else name)}
        else:
            out["csi"] = {"driver": HOST_FOLDER_DRIVER, "volumeAttributes": {"path": str(self.path)}}
        if self.sub_path:
            out["subPath"] = self.sub_path
        return out

    def narrowed(self, sub_path: str) -> WorkspaceBinding:
        """The same binding seen through a pipeline task's ``subPath``."""
        if not sub_path:
            return self
        joined = f"{self.sub_path}/{sub_path}" if self.sub_path else sub_path
        return WorkspaceBinding(self.kind, self.path, joined.strip("/"), self.secret_name)


def parse_workspace(
    value: str | Path | Mapping[str, Any] | WorkspaceBinding, secrets_dir: Path | None = None
) -> WorkspaceBinding:
    """``emptyDir``, ``DIR``, ``secret=DIR`` (CLI forms), a Path, or a Tekton binding dict."""
    if isinstance(value, WorkspaceBinding):
        return value
    if isinstance(value, Path):
        return WorkspaceBinding(FOLDER, value.resolve())
    if isinstance(value, Mapping):
        if "emptyDir" in value:
            return WorkspaceBinding(EMPTY_DIR, sub_path=str(value.get("subPath", "")))
        if "secret" in value or "configMap" in value:
            ref = value.get("secret") or value.get("configMap") or {}
            name = str(ref.get("secretName") or ref.get("name") or "")
            if secrets_dir is None:
                raise RunError(f"workspace secret {name!r} needs a secrets folder (--secrets DIR)")
            return WorkspaceBinding(
                SECRET, (secrets_dir / name).resolve(), str(value.get("subPath", "")), name
            )
        csi = value.get("csi") or {}
        if csi.get("driver") == HOST_FOLDER_DRIVER:
            folder = (csi.get("volumeAttributes") or {}).get("path", "")
            return WorkspaceBinding(FOLDER, Path(str(folder)).resolve(), str(value.get("subPath", "")))
        for key in ("hostPath", "path"):
            if key in value:
                raw = value[key]
                folder = raw.get("path") if isinstance(raw, Mapping) else raw
                return WorkspaceBinding(FOLDER, Path(str(folder)).resolve(), str(value.get("subPath", "")))
        raise RunError(f"workspace binding {dict(value)} is not emptyDir, secret or a host folder")
    text = str(value)
    if text == EMPTY_DIR:
        return WorkspaceBinding(EMPTY_DIR)
    if text.startswith("secret="):
        folder = Path(text.removeprefix("secret=")).resolve()
        if not folder.is_dir():
            raise RunError(f"secret folder {folder} does not exist: give a folder with one file per key")
        return WorkspaceBinding(SECRET, folder, secret_name=folder.name)
    if not text:
        raise RunError("a workspace needs a value: DIR, emptyDir or secret=DIR")
    return WorkspaceBinding(FOLDER, Path(text).resolve())


def parse_cli_workspaces(items: list[str]) -> dict[str, WorkspaceBinding]:
    """``-w name=DIR|emptyDir|secret=DIR`` options."""
    out: dict[str, WorkspaceBinding] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise RunError(f"workspace {item!r} is not name=DIR, name=emptyDir or name=secret=DIR")
        out[name] = parse_workspace(value)
    return out
