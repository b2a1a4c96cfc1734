#!/usr/bin/env bash
# `make image`: build ./Containerfile into an OCI image layout, with no daemon and no registry.
#
# 1. The base: a bookworm rootfs with python3 made by mmdebstrap from the configured Debian mirror
#    (SOURCE_DATE_EPOCH fixed, so its bytes depend only on the mirror's contents), wrapped as a
#    one-layer OCI image by scripts/image/rootfs_to_oci.py. Cached under .build/base/<key>, the key
#    a hash of everything that goes into it, so only the first build pays for it (minutes).
# 2. The image: `buildah bud --isolation chroot` of the Containerfile with
#    BASE_IMAGE=oci:<that base>, every file and the config stamped with the HEAD commit's time,
#    pushed to $IMAGE_OUT (default .build/images/iib-step) tagged with pyproject's version.
#
# Settings (environment or make variables):
#   IMAGE_OUT        the OCI layout to write (default .build/images/iib-step)
#   BASE_IMAGE       build FROM this instead of the local Debian base (any buildah reference,
#                    e.g. docker.io/library/python:3.11-slim-bookworm; needs that registry)
#   IMAGE_FORCE=1    rebuild even when $IMAGE_OUT is up to date with its inputs
#   IMAGE_CA_BUNDLE  CA bundle that pip inside the build trusts (default: the host's)
#   DEBIAN_MIRROR    the Debian mirror for the base (default: the host's apt sources)
#   SOURCE_DATE_EPOCH the image's timestamp (default: the HEAD commit's time)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
started=$(date +%s)
say() { echo "image: $*"; }

VERSION=$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
OUT=${IMAGE_OUT:-.build/images/iib-step}
mkdir -p "$(dirname "$OUT")"
OUT=$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")
REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)
SOURCE=${IMAGE_SOURCE:-$(git config --get remote.origin.url 2>/dev/null || echo unknown)}
EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
ARCH=$(dpkg --print-architecture)

# A private container storage, so nothing here touches (or races with) the machine's own.
STORE=(--root "$ROOT/.build/containers/storage" --runroot "$ROOT/.build/containers/run"
    --storage-driver overlay)

# -- 1. the base ---------------------------------------------------------------------------------
# The Debian snapshot date of the sources this was first built from: every file of the base is
# stamped with it, so the same packages give the same bytes.
BASE_EPOCH=1747699200
SUITE=bookworm
PACKAGES=python3,python3-venv,python3-pip
host_uri() {  # the first deb822 URIs or sources.list URL on this host matching $1
    { cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true; } |
        grep -oE "https?://[^ ]*$1/?( |$)" | head -1 | tr -d ' ' || true
}
MIRROR=${DEBIAN_MIRROR:-$(host_uri /debian)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY=${DEBIAN_SECURITY_MIRROR:-$(host_uri /debian-security)}
SECURITY=${SECURITY:-http://deb.debian.org/debian-security}
SOURCES=(
    "deb $MIRROR $SUITE main"
    "deb $MIRROR $SUITE-updates main"
    "deb $SECURITY $SUITE-security main"
)
key=$(printf '%s\n' "$SUITE" "$PACKAGES" "${SOURCES[@]}" "$BASE_EPOCH" "$ARCH" \
    "$(mmdebstrap --version)" "$(sha256sum scripts/image/rootfs_to_oci.py)" | sha256sum | cut -c1-16)
BASE_DIR=$ROOT/.build/base/$key
if [ -z "${BASE_IMAGE:-}" ]; then
    if [ ! -f "$BASE_DIR/digest" ]; then
        say "building the base ($SUITE + $PACKAGES from $MIRROR) into $BASE_DIR: a few minutes"
        rm -rf "$BASE_DIR"
        mkdir -p "$BASE_DIR"
        SOURCE_DATE_EPOCH=$BASE_EPOCH mmdebstrap --quiet --variant=apt --skip=output/dev \
            --include="$PACKAGES" --architectures="$ARCH" "$SUITE" "$BASE_DIR/rootfs.tar" "${SOURCES[@]}"
        python3 scripts/image/rootfs_to_oci.py "$BASE_DIR/rootfs.tar" "$BASE_DIR/oci" base \
            --created "$BASE_EPOCH" --arch "$ARCH" >"$BASE_DIR/digest.tmp"
        mv "$BASE_DIR/digest.tmp" "$BASE_DIR/digest"
        say "base built in $(($(date +%s) - started)) s: $(cat "$BASE_DIR/digest")"
    else
        say "reusing the base $BASE_DIR ($(cat "$BASE_DIR/digest"))"
    fi
    # Into the private container storage under a name of its own: buildah names an image pulled
    # from oci:PATH after PATH, which is no valid name where PATH has a dot folder (.build), and
    # which would make the base's name (recorded in the image) depend on where the clone is.
    BASE_IMAGE=localhost/iib-step-base:$key
    if ! buildah "${STORE[@]}" inspect --type image "$BASE_IMAGE" >/dev/null 2>&1; then
        skopeo copy --quiet "oci:$BASE_DIR/oci:base" \
            "containers-storage:[overlay@$ROOT/.build/containers/storage+$ROOT/.build/containers/run]$BASE_IMAGE"
    fi
fi
if [ "${IMAGE_BASE_ONLY:-}" = 1 ]; then
    echo "$BASE_IMAGE"
    exit 0
fi

# -- 2. the image --------------------------------------------------------------------------------
# Everything the image is made of: when $OUT.inputs already records this, the layout is up to date.
inputs=$( {
    printf '%s\n' "$BASE_IMAGE" "$EPOCH" "$REVISION" "$SOURCE" "$VERSION"
    [ "$BASE_IMAGE" = "localhost/iib-step-base:$key" ] && cat "$BASE_DIR/digest"
    find Containerfile .containerignore pyproject.toml README.md requirements.lock requirements-build.lock \
        catalog iib_steps status_api scripts/build-image.sh -type f ! -name '*.pyc' -print0 |
        LC_ALL=C sort -z | xargs -0 sha256sum
} | sha256sum | cut -c1-64)
if [ -z "${IMAGE_FORCE:-}" ] && [ -f "$OUT.inputs" ] && [ "$(cat "$OUT.inputs")" = "$inputs" ] &&
    [ -f "$OUT/index.json" ]; then
    say "oci:$OUT:$VERSION is up to date (IMAGE_FORCE=1 rebuilds it)"
    echo "digest: $(cat "$OUT.digest")"
    exit 0
fi

NAME=localhost/iib-step-build:$key-$$
# The host's CA bundle, for RUN steps that reach PyPI (a build secret: never in a layer).
secret=()
CA=${IMAGE_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
[ -s "$CA" ] && secret=(--secret "id=ca-bundle,src=$CA")
say "buildah bud FROM $BASE_IMAGE (timestamp $EPOCH, revision $REVISION)"
# Every step runs afresh (no layer cache: a cached layer could carry another build's timestamps).
buildah "${STORE[@]}" bud --quiet --isolation chroot --no-cache --timestamp "$EPOCH" \
    --disable-compression=false "${secret[@]}" \
    --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg VERSION="$VERSION" \
    --build-arg REVISION="$REVISION" --build-arg SOURCE="$SOURCE" --build-arg SOURCE_DATE_EPOCH="$EPOCH" \
    -f Containerfile -t "$NAME" . >/dev/null
rm -rf "$OUT" "$OUT.inputs" "$OUT.digest"
buildah "${STORE[@]}" push --quiet --disable-compression=false --format oci \
    --digestfile "$OUT.digest" "$NAME" "oci:$OUT:$VERSION"
buildah "${STORE[@]}" rmi "$NAME" >/dev/null
echo "$inputs" >"$OUT.inputs"
say "built oci:$OUT:$VERSION in $(($(date +%s) - started)) s ($(du -sh "$OUT" | cut -f1) on disk)"
echo "digest: $(cat "$OUT.digest")"
