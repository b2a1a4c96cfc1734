"""Go ``time.Duration`` strings as Tekton writes them (``"1h0m0s"``, ``"90s"``, ``"500ms"``)."""

from __future__ import annotations

import re

from iib_steps.tekton.runner.errors import RunError

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str, what: str = "timeout") -> float:
    """Seconds in a Go duration such as ``"1h30m"`` or ``"0"``; a bad one is a :class:`RunError`."""
    s = str(text).strip()
    if s in ("0", ""):
        return 0.0
    pos, total = 0, 0.0
    sign = 1.0
    if s[0] in "+-":
        sign = -1.0 if s[0] == "-" else 1.0
        pos = 1
    while pos < len(s):
        m = _PART.match(s, pos)
        if not m:
            raise RunError(
                f"{what} {text!r} is not a duration: write it as Go does, for example 90s, 5m or 1h30m"
            )
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos == (1 if s[0] in "+-" else 0):
        raise RunError(f"{what} {text!r} is not a duration: write it as Go does, for example 5m")
    return sign * total


def format_duration(seconds: float) -> str:
    """The Go form of a duration: ``3600`` -> ``"1h0m0s"``, ``90`` -> ``"1m30s"``, ``0.5`` -> ``"500ms"``."""
    if seconds == 0:
        return "0s"
    if seconds < 1:
        ms = seconds * 1000
        return f"{ms:g}ms" if ms >= 1 else f"{seconds * 1e6:g}µs"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    secs_text = f"{secs:.9f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{int(hours)}h{int(minutes)}m{secs_text}"
    if minutes:
        return f"{int(minutes)}m{secs_text}"
    return secs_text
