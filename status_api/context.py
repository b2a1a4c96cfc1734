"""Everything a route needs, built once per app: settings, database, auth, storage, executor, metrics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from status_api.auth import Authenticator
from status_api.db import Database
from status_api.executors import Executor
from status_api.metrics import Metrics
from status_api.settings import Settings
from status_api.storage import LocalStorage, S3Storage


@dataclass
class AppContext:
    settings: Settings
    db: Database
    auth: Authenticator
    storage: LocalStorage | S3Storage
    executor: Executor
    metrics: Metrics
    # status_api.messaging.Messenger: IIB's AMQP state messages, sent after each commit.
    messenger: Any = None
