"""Executors: what starts a POSTed request's Pipeline, chosen by ``IIB_EXECUTOR``.

``local`` (the default) runs it with the embedded Tekton runner on this machine, ``kubernetes``
creates a PipelineRun on a cluster, ``none`` starts nothing (runs are started elsewhere and recorded
when seen). Every executor builds the run from ``params.pipeline_params``.
"""

from __future__ import annotations

from status_api.db import Database
from status_api.executors.base import (
    Executor,
    NoopExecutor,
    Notifier,
    RecordingExecutor,
    RunRef,
    Silent,
    Submission,
)
from status_api.settings import Settings
from status_api.storage import LocalStorage, S3Storage

__all__ = [
    "Executor",
    "NoopExecutor",
    "Notifier",
    "RecordingExecutor",
    "RunRef",
    "Submission",
    "executor_from_settings",
]


def executor_from_settings(
    settings: Settings, db: Database, storage: LocalStorage | S3Storage, notifier: Notifier | None = None
) -> Executor:
    """The executor ``IIB_EXECUTOR`` names, started; ``notifier`` hears of the states it records."""
    if settings.IIB_EXECUTOR == "kubernetes":
        from status_api.executors.kubernetes import KubernetesExecutor

        return KubernetesExecutor(settings, db, storage, notifier=notifier or Silent())
    if settings.IIB_EXECUTOR == "local":
        from status_api.executors.local import LocalExecutor

        return LocalExecutor(settings, db, storage, notifier=notifier or Silent())
    return NoopExecutor()
