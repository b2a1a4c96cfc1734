#!/usr/bin/env bash
# `make run`: the whole product on this machine, as a release pipeline would use it (no cluster, no
# registry, nothing beside the clone): `iib-step demo run` starts the status API (SQLite, the local
# executor running our Tekton Pipelines with the embedded runner), builds bundle images from
# examples/ into OCI layouts, submits add, a second add and rm through the REST API, follows each to
# its end, prints each outcome, index image and upgrade graph, and a summary of where everything is.
# Everything goes under $RUN_DIR (default /tmp/iib-tekton-demo); `make serve` serves it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/iib-step demo run --run-dir "${RUN_DIR:-${TMPDIR:-/tmp}/iib-tekton-demo}" --examples examples
