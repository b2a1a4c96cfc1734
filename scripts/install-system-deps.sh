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
# gcc, libssl-dev, pkg-config: python-qpid-proton (AMQP messages) has no wheel; pip builds it with TLS.
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
[ -e /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
# python3-dev: Python.h, for the same build (when python3 is Debian's own).
python3 -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(sysconfig.get_paths()["include"] + "/Python.h"))' \
  2>/dev/null || need+=(python3-dev)
# openssl: the messaging tests make a CA and TLS certificates with it.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# wrk: the HTTP load generator of the status API benchmark (bench/api.py).
command -v wrk >/dev/null 2>&1 || need+=(wrk)
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
