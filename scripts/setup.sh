#!/usr/bin/env bash
# Set up gpubench on Debian 12: system packages, a virtual environment in .venv, and the project in it.
# Usage: scripts/setup.sh [--test]   (--test adds what the test suite needs: sshd, Docker, Chromium, ...)
# Idempotent: packages already there are not installed again.
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

packages=(python3 python3-venv python3-pip git ca-certificates)
if [ "$want_tests" = 1 ]; then
  # Real components for the tests: an SSH server, a Docker engine, a static busybox for the stand-in TGI image,
  # and a browser for the site tests.
  packages+=(openssh-server openssh-client docker.io busybox-static util-linux chromium fonts-dejavu-core)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "Installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv"
  python3 -m venv .venv
fi
extra=""
[ "$want_tests" = 1 ] && extra="[test]"
echo "Installing gpubench${extra} into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extra}"
