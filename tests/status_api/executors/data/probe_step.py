"""A step for the local executor's tests: journals its start and end, reports like IIB's worker,
waits at a gate, and fails when asked. Args: request id, status API URL, token folder, journal,
gate, then the operators."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def journal(path: str, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def patch(url: str, token_dir: str, request_id: str, body: dict[str, str]) -> None:
    if not url:
        return
    headers = {"Content-Type": "application/json"}
    if token_dir:
        headers["Authorization"] = "Bearer " + (Path(token_dir) / "token").read_text().strip()
    request = urllib.request.Request(
        f"{url}/builds/{request_id}", data=json.dumps(body).encode(), headers=headers, method="PATCH"
    )
    for attempt in range(8):  # as iib-step's reporter: retry while the API is not answering
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
            return
        except urllib.error.URLError as exc:
            if isinstance(exc, urllib.error.HTTPError) or attempt == 7:
                raise
            time.sleep(0.5 * 2**attempt)


def main() -> int:
    request_id, url, token_dir, journal_path, gate, *operators = sys.argv[1:]
    journal(journal_path, f"start {request_id}")
    print(f"removing {', '.join(operators)} from the index", flush=True)
    patch(url, token_dir, request_id, {"state": "in_progress", "state_reason": "Removing the operators"})
    while gate and not os.path.exists(gate):
        time.sleep(0.05)
    if "broken" in operators:
        print("error: the operator broken cannot be removed", flush=True)
        journal(journal_path, f"end {request_id}")
        return 1
    print("done", flush=True)
    patch(
        url,
        token_dir,
        request_id,
        {
            "state": "complete",
            "state_reason": "The operator(s) were successfully removed from the index image",
        },
    )
    journal(journal_path, f"end {request_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
