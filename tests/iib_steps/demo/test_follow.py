"""iib_steps.demo.follow: a request followed to its end, each new state reason on its own line."""

from __future__ import annotations

from typing import Any

import pytest

from iib_steps.demo import follow as follow_module
from iib_steps.demo.follow import follow


def _states(*states: tuple[str, str]) -> Any:
    answers = [{"id": 1, "state": s, "state_reason": r} for s, r in states]

    def get() -> dict[str, Any]:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    return get


def test_plain_lines_for_each_new_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(follow_module, "POLL_S", 0.0)
    get = _states(
        ("in_progress", "The request was initiated"),
        ("in_progress", "The request was initiated"),
        ("in_progress", "Building the index image"),
        ("complete", "done"),
    )
    build = follow(get, "request 1 (add)", tty=False)
    assert build["state"] == "complete"
    assert capsys.readouterr().out.splitlines() == [
        "   request 1 (add): [in_progress] The request was initiated",
        "   request 1 (add): [in_progress] Building the index image",
        "   request 1 (add): [complete] done",
    ]


def test_a_heartbeat_line_while_nothing_changes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(follow_module, "POLL_S", 0.0)
    monkeypatch.setattr(follow_module, "HEARTBEAT_S", 0.0)
    follow(
        _states(("in_progress", "waiting"), ("in_progress", "waiting"), ("failed", "boom")), "r", tty=False
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "   r: [in_progress] waiting"
    assert lines[1].startswith("   r: still in_progress (")
    assert lines[-1] == "   r: [failed] boom"


def test_live_display_ends_with_the_outcome(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(follow_module, "POLL_S", 0.0)
    build = follow(_states(("in_progress", "x"), ("complete", "all good")), "request 2 (rm)", tty=True)
    assert build["state_reason"] == "all good"
    assert "request 2 (rm): all good" in capsys.readouterr().out
