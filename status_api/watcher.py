"""Record PipelineRuns from a Kubernetes cluster: list, then watch from the list's resourceVersion.

A watch that ends (server timeout, dropped connection) resumes from the last resourceVersion seen;
a 410 Gone (that version is too old) lists again; other failures back off and reconnect. Each object
goes through ``pipelinerun.read_pipelinerun`` and ``recording.record_run``, which are idempotent,
so relisting is harmless.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any, Protocol

from status_api.db import Database
from status_api.errors import ApiError
from status_api.pipelinerun import read_pipelinerun
from status_api.recording import record_run

log = logging.getLogger(__name__)

GROUP, VERSION, PLURAL = "tekton.dev", "v1", "pipelineruns"


class Gone(Exception):
    """The resourceVersion to resume from has expired: list again."""


class WatchSource(Protocol):
    def list(self) -> tuple[list[dict[str, Any]], str]:
        """Every matching PipelineRun and the list's resourceVersion."""

    def watch(self, resource_version: str) -> Iterator[dict[str, Any]]:
        """Events ``{"type", "object"}`` after ``resource_version``; raises Gone on 410."""


class KubernetesSource:
    """PipelineRuns of one namespace and label selector, through the ``kubernetes`` client."""

    def __init__(
        self, namespace: str, selector: str, api_client: Any = None, timeout_seconds: int = 300
    ) -> None:
        from kubernetes import client

        self.api = client.CustomObjectsApi(api_client)
        self.namespace = namespace
        self.selector = selector
        self.timeout_seconds = timeout_seconds

    def list(self) -> tuple[list[dict[str, Any]], str]:
        from kubernetes.client.exceptions import ApiException

        try:
            listing = self.api.list_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, label_selector=self.selector
            )
        except ApiException as exc:
            if exc.status == 410:
                raise Gone(str(exc.reason)) from None
            raise
        return listing.get("items") or [], listing["metadata"]["resourceVersion"]

    def watch(self, resource_version: str) -> Iterator[dict[str, Any]]:
        from kubernetes import watch
        from kubernetes.client.exceptions import ApiException

        stream = watch.Watch().stream(
            self.api.list_namespaced_custom_object,
            GROUP,
            VERSION,
            self.namespace,
            PLURAL,
            label_selector=self.selector,
            resource_version=resource_version,
            allow_watch_bookmarks=True,
            timeout_seconds=self.timeout_seconds,
        )
        try:
            yield from stream
        except ApiException as exc:
            if exc.status == 410:
                raise Gone(str(exc.reason)) from None
            raise


def kubernetes_source(namespace: str, selector: str) -> KubernetesSource:
    """A source with in-cluster credentials, else the kubeconfig."""
    from kubernetes import config

    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
    return KubernetesSource(namespace, selector)


class PipelineRunWatcher:
    """Feeds every PipelineRun the source shows into the database, forever or until stopped."""

    def __init__(
        self,
        db: Database,
        source: WatchSource,
        *,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        on_recorded: Any = None,
    ) -> None:
        self.db = db
        self.source = source
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.stop_event = threading.Event()
        self.resource_version: str | None = None
        self.on_recorded = on_recorded
        self.relists = 0
        self.reconnects = 0

    def stop(self) -> None:
        self.stop_event.set()

    def handle(self, run: dict[str, Any]) -> None:
        """Record one PipelineRun; a run we cannot read is logged and skipped."""
        try:
            recorded = record_run(self.db, read_pipelinerun(run))
        except ApiError as exc:
            name = (run.get("metadata") or {}).get("name")
            log.warning("Skipping PipelineRun %s: %s", name, exc.message)
            return
        if self.on_recorded is not None:
            self.on_recorded(recorded)

    def _cycle(self) -> None:
        if self.resource_version is None:
            items, self.resource_version = self.source.list()
            self.relists += 1
            for item in items:
                self.handle(item)
        for event in self.source.watch(self.resource_version):
            kind = event.get("type")
            obj = event.get("raw_object") or event.get("object") or {}
            version = (obj.get("metadata") or {}).get("resourceVersion")
            if kind in ("ADDED", "MODIFIED"):
                self.handle(obj)
            if version:
                self.resource_version = version
            if self.stop_event.is_set():
                return

    def run(self, max_cycles: int | None = None) -> None:
        """Watch until ``stop()`` (or ``max_cycles`` watch cycles, for tests)."""
        delay = self.backoff
        cycles = 0
        while not self.stop_event.is_set() and (max_cycles is None or cycles < max_cycles):
            cycles += 1
            try:
                self._cycle()
                delay = self.backoff
            except Gone:
                log.info("resourceVersion %s expired; listing again", self.resource_version)
                self.resource_version = None
            except Exception as exc:  # connection refused, reset, timeouts, API errors
                self.reconnects += 1
                log.warning("Watch failed (%s); reconnecting in %.1f s", str(exc).splitlines()[0], delay)
                if self.stop_event.wait(delay):
                    return
                delay = min(delay * 2, self.max_backoff)
