"""Follow a build request to its end: a live line on a terminal, plain lines otherwise.

Plain output prints each new state reason, and a line at least every 8 s while nothing changes,
so that a log reader always sees the build is alive.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

FINAL = ("complete", "failed")
HEARTBEAT_S = 8.0
POLL_S = 0.5


def follow(get: Callable[[], dict[str, Any]], label: str, *, tty: bool | None = None) -> dict[str, Any]:
    """Poll ``get()`` (the request's JSON) until its state is final; return the last JSON."""
    tty = sys.stdout.isatty() if tty is None else tty
    return _follow_live(get, label) if tty else _follow_plain(get, label)


def _follow_plain(get: Callable[[], dict[str, Any]], label: str) -> dict[str, Any]:
    started = last_line = time.monotonic()
    seen = ""
    while True:
        build = get()
        reason = f"[{build['state']}] {build.get('state_reason') or ''}"
        now = time.monotonic()
        if reason != seen:
            print(f"   {label}: {reason}", flush=True)
            seen, last_line = reason, now
        elif now - last_line >= HEARTBEAT_S:
            print(f"   {label}: still {build['state']} ({now - started:.0f} s)", flush=True)
            last_line = now
        if build["state"] in FINAL:
            return build
        time.sleep(POLL_S)


def _follow_live(get: Callable[[], dict[str, Any]], label: str) -> dict[str, Any]:
    from rich.console import Console

    console = Console()
    started = time.monotonic()
    with console.status(f"{label}: submitted") as status:
        while True:
            build = get()
            elapsed = time.monotonic() - started
            text = f"{label}: [{build['state']}] {build.get('state_reason') or ''} ({elapsed:.0f} s)"
            status.update(text)
            if build["state"] in FINAL:
                break
            time.sleep(POLL_S)
    mark = "[green]✓[/green]" if build["state"] == "complete" else "[red]✗[/red]"
    console.print(f"   {mark} {label}: {build.get('state_reason') or build['state']} ({elapsed:.0f} s)")
    return build
