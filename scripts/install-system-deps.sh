#!/usr/bin/env bash
# Installs the Debian packages the tests and benchmarks run against, when they are missing.
set -euo pipefail
need=()
# libkrb5-dev: iiblib (the real IIB client, used by the API tests) needs gssapi, built from source.
command -v krb5-config >/dev/null 2>&1 || need+=(libkrb5-dev)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
# apache2-utils: htpasswd (bcrypt) for the test registry with basic auth.
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# wrk: the HTTP load generator of the status API benchmark (bench/api.py).
command -v wrk >/dev/null 2>&1 || need+=(wrk)
# chromium + chromium-driver: the status page's test in a real headless browser (tests/status_api/ui/).
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
# runc: the embedded Tekton runner's container runtime; busybox-static: the tiny image its tests build.
command -v runc >/dev/null 2>&1 || need+=(runc)
test -x /bin/busybox || need+=(busybox-static)
# yamllint, and Node.js + npm for @ibm/tekton-lint: the Tekton checks (tests/iib_steps/tekton).
command -v yamllint >/dev/null 2>&1 || need+=(yamllint)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
