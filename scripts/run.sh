#!/usr/bin/env bash
# `make run`: the main job on the embedded default (no cluster, no registry).
#
# 1. validate a sample catalog;
# 2. build bundle images from real bundle directories into OCI layouts on disk;
# 3. `iib-step add` them into a new index image (binaryless, OCI layouts), add the next version of
#    one of them to that index, `iib-step rm` another, each step writing Tekton results and the
#    IIB request JSON under $RUN_DIR (default /tmp/iib-tekton-run);
# 4. extract the final index image's catalog and validate it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
SHARED=../shared/testdata
SAMPLE=$SHARED/catalogs/community-v4.16-sample
echo "== iib-step catalog validate $SAMPLE"
$BIN/iib-step catalog validate "$SAMPLE" -o json

RUN=${RUN_DIR:-${TMPDIR:-/tmp}/iib-tekton-run}
rm -rf "$RUN"
mkdir -p "$RUN"
RUN=$(cd "$RUN" && pwd)
IMAGES="$RUN/images"
cat > "$RUN/settings.yaml" <<EOF
registry: "oci:$IMAGES"
oci_layout_root: "$IMAGES"
binary_image_config:
  prod:
    v4.5: scratch
catalog_layer_groups: 8
EOF
export IIB_STEPS_CONFIG="$RUN/settings.yaml"

echo "== building bundle images into OCI layouts under $IMAGES"
$BIN/python - "$SHARED/bundles" "$IMAGES" <<'EOF'
import sys
from pathlib import Path

from iib_steps.images.build import build_bundle_image

bundles, images = Path(sys.argv[1]), sys.argv[2]
for name in ("kube-green-0.3.0", "kube-green-0.3.1", "dbaas-operator-0.5.0", "bpfman-operator-0.5.6"):
    package, _, version = name.rpartition("-")
    ref = f"oci:{images}/{package}-bundle:v{version}"
    build_bundle_image(bundles / name, [ref], fmt="oci")
    print(f"   {ref}")
EOF

step() {
    local id=$1
    shift
    echo "== iib-step $1 (request $id)"
    mkdir -p "$RUN/results-$id"
    $BIN/iib-step "$@" --request-id "$id" --results-dir "$RUN/results-$id" --request-json "$RUN/request-$id.json"
}
B="oci:$IMAGES"
step 1 add --binary-image scratch --add-arches amd64 \
    --bundles "$B/kube-green-bundle:v0.3.0" --bundles "$B/dbaas-operator-bundle:v0.5.0" \
    --bundles "$B/bpfman-operator-bundle:v0.5.6"
step 2 add --binary-image scratch --from-index "$B/iib-build:1" --bundles "$B/kube-green-bundle:v0.3.1"
step 3 rm --binary-image scratch --from-index "$B/iib-build:2" --operators bpfman-operator
echo "   IMAGE_URL=$(cat "$RUN/results-3/IMAGE_URL") IMAGE_DIGEST=$(cat "$RUN/results-3/IMAGE_DIGEST")"

echo "== extracting and validating the catalog of $B/iib-build:3"
$BIN/python - "$B/iib-build:3" "$RUN/final-catalog" <<'EOF'
import sys
from pathlib import Path

from iib_steps.images.extract import extract_index_catalog

out = extract_index_catalog(sys.argv[1], Path(sys.argv[2]))
print("   packages:", " ".join(sorted(p.name for p in out.iterdir())))
EOF
$BIN/iib-step catalog validate "$RUN/final-catalog" -o json
