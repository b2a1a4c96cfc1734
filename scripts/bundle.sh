#!/usr/bin/env bash
# Push every Task, then every Pipeline, as Tekton bundles under BASE (`make bundle BUNDLE=BASE`):
#   BASE/tasks:VERSION       the Tasks
#   BASE/pipelines:VERSION   the Pipelines, their taskRefs rewritten to the bundles resolver on the
#                            Tasks bundle, pinned by digest
# BASE is a registry repository prefix (quay.io/org/iib-tekton) or an OCI layout folder (oci:DIR).
set -euo pipefail
base="${1:?usage: scripts/bundle.sh BASE [VERSION]}"
version="${2:-0.1}"
step="${IIB_STEP:-.venv/bin/iib-step}"
shopt -s nullglob
tasks=(tasks/*/"$version"/*.yaml)
pipelines=(pipelines/*/"$version"/*.yaml)
task_args=()
for f in "${tasks[@]}"; do task_args+=(-f "$f"); done
pipeline_args=()
for f in "${pipelines[@]}"; do pipeline_args+=(-f "$f"); done
out=$("$step" tekton bundle push "$base/tasks:$version" "${task_args[@]}")
echo "$out"
tasks_ref=$(printf '%s\n' "$out" | sed -n 's/^Pushed Tekton Bundle to //p')
"$step" tekton bundle push "$base/pipelines:$version" --task-bundle "$tasks_ref" "${pipeline_args[@]}"
