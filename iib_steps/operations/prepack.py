"""Packing a catalog's layer groups in the background while the request works on the catalog.

On the full path from an index not laid out in groups (IIB's single catalog layer, opm's) with one
catalog worker (``catalog_workers: 1``, or a step with one CPU), every group has to be packed.
Compression (ISA-L) releases the GIL, loading and validating do not: started right after
extraction, the packing of the groups overlaps the load, the edit and the validation. At build time
a group's background layer is used only when none of its packages changed and it holds the same
packages; anything else (a group whose files were being rewritten, a failure) is packed again then,
so the result is exactly what packing at build time gives.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from iib_steps.catalog_layers import group_layer_spec, partition
from iib_steps.images.layers import LayerBlob, write_layer


class Prepacker:
    """Packs every group of ``configs`` (as laid out now), one after the other, in a daemon thread."""

    def __init__(self, configs: Path, groups: int, layer_dir: Path) -> None:
        self.configs = configs
        self.groups = groups
        self.layer_dir = layer_dir
        self.members = partition([p.name for p in configs.iterdir()], groups)
        self._done: dict[int, LayerBlob | None] = {}
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="prepack", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for group, members in sorted(self.members.items()):
            with self._cond:
                if self._stop:
                    return
            try:
                blob: LayerBlob | None = write_layer(group_layer_spec(self.configs, members), self.layer_dir)
            except Exception:
                blob = None
            with self._cond:
                self._done[group] = blob
                self._cond.notify_all()

    def take(self, group: int, members: Iterable[str]) -> LayerBlob | None:
        """The background layer of ``group`` if it holds exactly ``members`` (waits for it)."""
        if self.members.get(group) != sorted(members):
            return None
        with self._cond:
            while group not in self._done and self._thread.is_alive():
                self._cond.wait(0.5)
            return self._done.get(group)

    def stop(self) -> None:
        """Pack nothing more (the group being packed finishes)."""
        with self._cond:
            self._stop = True
