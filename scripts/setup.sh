#!/usr/bin/env bash
# The one set-up step for building and testing hexcore on Debian (12 or newer).
# Idempotent: installs only what is missing, so a warm machine passes through in seconds.
set -euo pipefail

# System packages the build and the tests need:
#   build-essential, pkg-config — C toolchain for crates that build C (crc32c's fallback, ring…)
#   libclang-dev               — bindgen for RocksDB's C API (librocksdb-sys)
#   iproute2                    — `ip netns`/`ip link` for the user-plane tests
#   iputils-ping                — `ping` through a simulated UE's PDU session
#   iptables                    — N6 NAT of `hexcore up` (not used by the tests: --no-nat)
#   tcpdump                     — the user-plane test captures N4 and N3 for `hexcore pcap`
#   python3                     — helper scripts (sctp-vm kit)
PACKAGES=(build-essential pkg-config libclang-dev iproute2 iputils-ping iptables tcpdump python3 ca-certificates)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# The Rust toolchain (stable, 1.88 or newer) with rustfmt and clippy.
if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "setup: no Rust toolchain. Install rustup (https://rustup.rs, or 'apt-get install rustup' on Debian 13)" >&2
    echo "       then: rustup default stable" >&2
    exit 1
  fi
fi
if command -v rustup >/dev/null 2>&1; then
  for c in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
  done
fi
echo "setup: ok ($(cargo --version))"
