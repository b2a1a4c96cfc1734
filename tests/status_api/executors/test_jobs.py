"""The local executor's durable queue: a job is taken over only when no live holder has it."""

from __future__ import annotations

from pathlib import Path

from status_api.executors.base import Submission
from status_api.executors.jobs import JobStore
from status_api.executors.local import _Queue

OVERWRITE = {"from_index": "quay.io/i/index:1", "overwrite_from_index": True}


def test_a_held_job_is_no_orphan_until_released(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs")
    job = store.add(Submission(3, "rm", {"operators": ["a"]}, {"overwrite_from_index_token": "u:p"}, "alice"))
    assert list(store.orphans()) == []  # this process holds it
    store.mark_started(job)
    store.release(job)  # as a process that stops does
    (orphan,) = store.orphans()
    assert (orphan.request_id, orphan.started, orphan.has_secrets) == (3, True, True)
    assert orphan.submission.params == {"operators": ["a"]}
    assert orphan.submission.secrets == {}  # never written
    assert "u:p" not in (tmp_path / "jobs" / "3.json").read_text()
    store.remove(orphan)
    assert sorted(p.name for p in (tmp_path / "jobs").iterdir()) == []


def test_an_unreadable_job_is_set_aside(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs")
    (tmp_path / "jobs" / "9.json").write_text("{not json")
    assert list(store.orphans()) == []
    assert (tmp_path / "jobs" / "9.invalid").exists()


def test_the_queue_keeps_order_and_serialises_overwrites(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs")
    queue = _Queue()
    first = store.add(Submission(1, "rm", OVERWRITE))
    second = store.add(Submission(2, "rm", OVERWRITE))
    other = store.add(Submission(3, "rm", {"from_index": "quay.io/i/index:1"}))
    for job in (first, second, other):
        queue.put(job)
    assert queue.take() is first
    assert queue.take() is other  # the second overwrite of the same index waits for the first
    assert [j.request_id for j in queue.pending] == [2]
    queue.done(first)
    assert queue.take() is second
    assert queue.drop(2) is None  # running, no longer waiting
    assert queue.close() == []
    assert queue.take() is None
