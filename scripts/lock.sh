#!/usr/bin/env bash
# `make lock`: re-pin every dependency, with hashes, for Python 3.11, after editing pyproject.toml.
#
#   requirements.lock      the runtime: pyproject's `dependencies` (make run, make image, the image)
#   requirements-dev.lock  the whole development environment: the same runtime pins (the runtime
#                          lock is a constraint, so both agree) plus the `dev` extra
#   requirements-build.lock  pyproject's [build-system] requires (setuptools): what the step
#                          image's build stage builds the project's wheel with (Containerfile)
#
# The existing locks are the resolver's preferences, so a re-lock only moves what it must
# (`make lock UPGRADE=1` moves everything to the newest allowed; `UPGRADE=pkg1,pkg2` only those). uv
# itself is pinned with hashes in scripts/lock/uv.txt and kept in .build/lock-tools.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TOOLS=.build/lock-tools
if ! "$TOOLS/bin/uv" --version >/dev/null 2>&1; then
    echo "lock: installing uv into $TOOLS"
    rm -rf "$TOOLS"
    "$PYTHON" -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install -q --require-hashes --no-deps -r scripts/lock/uv.txt
fi
UV="$TOOLS/bin/uv"
common=(--generate-hashes --python-version 3.11 --custom-compile-command "make lock" -q)
case "${UPGRADE:-}" in
    "") ;;
    1) common+=(--upgrade) ;;
    *) IFS=, read -ra pkgs <<<"$UPGRADE"
       for pkg in "${pkgs[@]}"; do common+=(--upgrade-package "$pkg"); done ;;
esac
echo "lock: requirements.lock (runtime)"
"$UV" pip compile pyproject.toml "${common[@]}" -o requirements.lock
echo "lock: requirements-dev.lock (runtime + dev extra)"
"$UV" pip compile pyproject.toml --extra dev -c requirements.lock "${common[@]}" -o requirements-dev.lock
echo "lock: requirements-build.lock (the build backend)"
"$PYTHON" -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))' |
    "$UV" pip compile - "${common[@]}" -o requirements-build.lock
