"""Prometheus metrics: requests by type and state (read from the database at scrape time), build durations."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from status_api.builds import StateChange, counts_by_type_and_state
from status_api.db import Database
from status_api.request_types import FINAL_STATES


class _RequestsCollector(Collector):
    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "iib_requests",
            "Build requests in the database, by type and state",
            labels=["request_type", "state"],
        )
        for request_type, state, count in counts_by_type_and_state(self.db):
            family.add_metric([request_type, state], count)
        yield family


class Metrics:
    """One registry per app: the database gauge, and counters/histograms of this process."""

    def __init__(self, db: Database) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_RequestsCollector(db))
        self.created = Counter(
            "iib_requests_created", "Build requests created", ["request_type"], registry=self.registry
        )
        self.finished = Counter(
            "iib_requests_finished",
            "Build requests that reached a final state",
            ["request_type", "state"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "iib_build_duration_seconds",
            "Seconds from creation to the final state",
            ["request_type", "state"],
            buckets=(10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, float("inf")),
            registry=self.registry,
        )

    def observe(self, change: StateChange | None) -> None:
        if change is None or change.state not in FINAL_STATES:
            return
        self.finished.labels(change.request_type, change.state).inc()
        if change.created is not None:
            seconds = (change.updated - change.created).total_seconds()
            self.duration.labels(change.request_type, change.state).observe(max(seconds, 0.0))

    def render(self) -> bytes:
        return generate_latest(self.registry)
