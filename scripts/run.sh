#!/usr/bin/env bash
# `make run`: the main job on the embedded default (no cluster, no registry).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
SAMPLE=../shared/testdata/catalogs/community-v4.16-sample
echo "== iib-step catalog validate $SAMPLE"
$BIN/iib-step catalog validate "$SAMPLE" -o json
