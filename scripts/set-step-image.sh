#!/usr/bin/env bash
# Point every Task (and README) at a new released step image: scripts/set-step-image.sh REF@sha256:...
# tasks/STEP_IMAGE is the one source of truth; tests/iib_steps/tekton checks every Task agrees with it.
set -euo pipefail
new="${1:?usage: scripts/set-step-image.sh IMAGE@sha256:DIGEST}"
[[ "$new" =~ @sha256:[0-9a-f]{64}$ ]] || { echo "error: $new is not pinned by digest (@sha256:...)" >&2; exit 1; }
old="$(cat tasks/STEP_IMAGE)"
grep -rlF -- "$old" tasks pipelines | while read -r file; do
  python3 - "$file" "$old" "$new" <<'PY'
import sys
path, old, new = sys.argv[1:]
with open(path) as f:
    text = f.read()
with open(path, "w") as f:
    f.write(text.replace(old, new))
PY
done
echo "step image: $old -> $new"
