#!/usr/bin/env bash
# Debian packages the real-component test infrastructure (tests/infra) needs:
# OpenSSH server, Docker engine (dockerd, containerd, runc), a static busybox
# for the stand-in TGI image, and nsenter/unshare (util-linux). Idempotent, quiet.
# The tests start their own sshd and dockerd processes; nothing is started here.
set -euo pipefail
packages=(openssh-server openssh-client docker.io busybox-static util-linux)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
