#!/usr/bin/env bash
# Installs what ozg-hub needs from Debian 12 (bookworm) packages and builds it into build/.
# Idempotent: packages already installed are not touched. Run as root on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libqpid-proton-cpp12-dev libqpid-proton11-dev python3-qpid-proton
  librocksdb-dev libssl-dev openssl libxml2-dev libxml2-utils libxslt1-dev libxerces-c-dev
  libboost-dev prometheus-cpp-dev libyaml-cpp-dev libcurl4-openssl-dev
  nlohmann-json3-dev libcrypt-dev libp11-kit-dev softhsm2 opensc
  libgtest-dev libgmock-dev libbenchmark-dev
  python3-aiosmtpd prometheus python3-yaml
  python3-jwt python3-cryptography  # the status events test verifies the hub's JWS
  rabbitmq-server  # the side-by-side benchmark and the connector tests (scripts/rabbitmq-private.sh)
  dpkg-dev file systemd  # the .deb (cpack, dpkg-shlibdeps) and systemd-analyze for deploy/
  clang-format clang-tidy
  clang libclang-rt-14-dev  # libFuzzer and its sanitizers for fuzz/ (scripts/fuzz.sh)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: these Debian packages are missing and installing them needs root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

BUILD_DIR=${OZGHUB_BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${OZGHUB_BUILD_TYPE:-RelWithDebInfo} >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
