#!/usr/bin/env bash
# Installs the Debian packages a make target needs, when they are missing.
#
#   install-system-deps.sh run    make run / make serve: only python3-venv
#   install-system-deps.sh image  make image: + the daemonless image tools (mmdebstrap, buildah, umoci)
#   install-system-deps.sh test   make test / make bench / make lint: all of the above, the compiler
#                                 and headers the dev extra builds from source, and the services the
#                                 tests talk to (a real registry, skopeo, PostgreSQL, podman + runc)
set -euo pipefail
mode=${1:-test}
need=()
have() { command -v "$1" >/dev/null 2>&1; }

# run: a Python with venv and ensurepip (Debian splits them into python3-venv).
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)

if [ "$mode" = image ] || [ "$mode" = test ]; then
  # The step image (scripts/build-image.sh): a bookworm rootfs, turned into an OCI base image,
  # then the Containerfile built on it without a daemon.
  have mmdebstrap || need+=(mmdebstrap)
  have umoci || need+=(umoci)
  have buildah || need+=(buildah)
  have skopeo || need+=(skopeo)
  have newuidmap || need+=(uidmap)
  have fuse-overlayfs || need+=(fuse-overlayfs)
fi

if [ "$mode" = test ]; then
  # libkrb5-dev, a C compiler and Python's headers: iiblib (the real IIB client, used by the API
  # tests) needs gssapi, built from source.
  have krb5-config || need+=(libkrb5-dev)
  have cc || need+=(gcc)
  python3 -c 'import os, sysconfig; os.stat(sysconfig.get_paths()["include"] + "/Python.h")' \
    >/dev/null 2>&1 || need+=(python3-dev)
  have docker-registry || need+=(docker-registry)
  # apache2-utils: htpasswd (bcrypt) for the test registry with basic auth.
  have htpasswd || need+=(apache2-utils)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  # wrk: the HTTP load generator of the status API benchmark (bench/api.py).
  have wrk || need+=(wrk)
  # podman and runc: run the step image in the tests (crun fails on hybrid cgroups).
  have podman || need+=(podman)
  have runc || need+=(runc)
  # yamllint, and Node.js + npm for @ibm/tekton-lint: the Tekton checks (tests/iib_steps/tekton).
  have yamllint || need+=(yamllint)
  have node || need+=(nodejs)
  have npm || need+=(npm)
  # busybox-static: the tiny image the embedded Tekton runner's container tests build.
  test -x /bin/busybox || need+=(busybox-static)
  # pkg-config, libssl-dev: python-qpid-proton (AMQP messages) has no wheel; pip builds it with TLS.
  have pkg-config || need+=(pkg-config)
  [ -e /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
  # openssl: the messaging tests make a CA and TLS certificates with it.
  have openssl || need+=(openssl)
  # chromium + chromium-driver: the status page's test in a real headless browser (tests/status_api/ui/).
  have chromium || need+=(chromium)
  have chromedriver || need+=(chromium-driver)
fi

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "installing Debian packages ($mode): ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null >/dev/null
