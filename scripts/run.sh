#!/usr/bin/env bash
# `make run`: the main job on the embedded default (no cluster, no registry, nothing beside the clone).
#
# 1. validate the example operators (examples/) by rendering them;
# 2. build a bundle image from each example bundle directory into OCI layouts on disk;
# 3. `iib-step add` a first set of versions into a new index image, `iib-step add` the next versions
#    to it, `iib-step rm` one operator, each step writing Tekton results and the IIB request JSON
#    under $RUN_DIR (default /tmp/iib-tekton-run);
# 4. extract the final index image's catalog, validate it and print the changed package's graph.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
EXAMPLES=examples

RUN=${RUN_DIR:-${TMPDIR:-/tmp}/iib-tekton-run}
rm -rf "$RUN"
mkdir -p "$RUN"
RUN=$(cd "$RUN" && pwd)
IMAGES="$RUN/images"
B="oci:$IMAGES"
cat > "$RUN/settings.yaml" <<SETTINGS
registry: "oci:$IMAGES"
oci_layout_root: "$IMAGES"
catalog_layer_groups: 8
SETTINGS
export IIB_STEPS_CONFIG="$RUN/settings.yaml"

echo "== building bundle images from $EXAMPLES/ into OCI layouts under $IMAGES"
for dir in "$EXAMPLES"/*/*/; do
    dir=${dir%/}
    version=$(basename "$dir")
    package=$(basename "$(dirname "$dir")")
    $BIN/iib-step image build-bundle "$dir" "$B/$package-bundle:v$version"
done

step() {
    local id=$1
    shift
    echo "== iib-step $1 (request $id)"
    mkdir -p "$RUN/results-$id"
    $BIN/iib-step "$@" --request-id "$id" --results-dir "$RUN/results-$id" --request-json "$RUN/request-$id.json"
}
step 1 add --binary-image scratch --add-arches amd64 \
    --bundles "$B/hello-operator-bundle:v0.1.0" --bundles "$B/hello-operator-bundle:v0.2.0" \
    --bundles "$B/tea-operator-bundle:v1.0.0" --bundles "$B/tea-operator-bundle:v1.1.0" \
    --bundles "$B/lamp-operator-bundle:v0.1.0" --bundles "$B/lamp-operator-bundle:v0.2.0"
step 2 add --binary-image scratch --from-index "$B/iib-build:1" \
    --bundles "$B/hello-operator-bundle:v0.3.0" --bundles "$B/tea-operator-bundle:v2.0.0"
step 3 rm --binary-image scratch --from-index "$B/iib-build:2" --operators lamp-operator
echo "   IMAGE_URL=$(cat "$RUN/results-3/IMAGE_URL") IMAGE_DIGEST=$(cat "$RUN/results-3/IMAGE_DIGEST")"

echo "== extracting and validating the catalog of $B/iib-build:3"
$BIN/iib-step image extract-catalog "$B/iib-build:3" "$RUN/final-catalog"
$BIN/iib-step catalog validate "$RUN/final-catalog" -o json
