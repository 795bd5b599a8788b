#!/usr/bin/env bash
# The conformance suite against `hexcore up` over kernel SCTP (port 38412), inside a
# throw-away microVM (the sctp-vm kit: /work/shared/sctp-vm, see its README), so that
# it works on hosts whose own kernel has no SCTP. The SCTP/UDP run is a cargo test
# (tests/conformance.rs); this is its kernel twin (issue 3, item 6).
#
#   scripts/conformance-kernel.sh                      # the whole suite
#   SCENARIO=registration-suci-null scripts/conformance-kernel.sh
#   OUT=/tmp/conf scripts/conformance-kernel.sh        # keep report.json, junit.xml, pcaps
#
# In the VM: provision the suite's subscribers (`hexcore conformance subscribers` |
# `hexcore subscriber import`), read the home-network keys (`hexcore subscriber keys`),
# start `hexcore up` (N2 on kernel SCTP 127.0.0.1:38412), wait for NG Setup, run
# `hexcore conformance run --transport kernel`, then `hexcore pcap` on its capture.
#
# Environment: HEXCORE_BIN (a built hexcore binary: no build), CARGO_TARGET_DIR
# (honoured by cargo), SCTP_VM_KIT (default
# /work/shared/sctp-vm), SCTP_VM_HOME (the kit's state dir), KEEP=1 keeps the temp dir.
# Exit status: 0 when every scenario passed, 1 otherwise (2: could not build or boot).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KIT="${SCTP_VM_KIT:-/work/shared/sctp-vm}"

say() { printf '== %s\n' "$*" >&2; }

[ -x "$KIT/vmrun.sh" ] || { echo "sctp-vm kit not found at $KIT (set SCTP_VM_KIT)" >&2; exit 2; }
say "sctp-vm setup (idempotent)"
"$KIT/setup.sh" >/dev/null || { echo "sctp-vm setup.sh failed" >&2; exit 2; }

cd "$ROOT"
if [ -n "${HEXCORE_BIN:-}" ]; then
    EXE="$HEXCORE_BIN"
    say "using $EXE"
else
say "building hexcore"
EXE="$(cargo build --bin hexcore --message-format=json 2>/dev/null | python3 -c 'import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        print(m["executable"])' | tail -1)"
[ -n "$EXE" ] && [ -x "$EXE" ] || { echo "cargo build --bin hexcore failed" >&2; cargo build --bin hexcore 2>&1 | tail -20 >&2; exit 2; }
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/conformance-kernel.XXXXXX")"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK" 2>/dev/null || true' EXIT
cp "$EXE" "$WORK/hexcore"

SCENARIO_ARGS=""
[ -n "${SCENARIO:-}" ] && SCENARIO_ARGS="--scenario $SCENARIO"

# A second DNN for pdu-session-two-dnns, as in tests/common/mod.rs.
cat >"$WORK/hexcore.toml" <<'EOF'
[[smf.dnns]]
name = "internet"
pool = "10.45.0.0/16"
dns = ["8.8.8.8", "1.1.1.1"]

[[smf.dnns]]
name = "ims"
pool = "10.46.0.0/16"
dns = ["8.8.8.8"]
EOF

cat >"$WORK/run.sh" <<EOF
set -u
export HEXCORE_DATA_DIR=/host/data
./hexcore conformance subscribers > subs.csv && ./hexcore subscriber import subs.csv || exit 2
./hexcore subscriber keys > keys.txt || exit 2
key() { grep "^profile \$1 (" keys.txt | grep -v uncompressed | sed 's/.*: //'; }
kid() { grep "^profile \$1 (" keys.txt | grep -v uncompressed | sed 's/.*key id \([0-9]*\):.*/\1/'; }
HEXCORE_N2__BIND=127.0.0.1 HEXCORE_METRICS__BIND=127.0.0.1:9090 HEXCORE_UPF__N3_BIND=127.0.0.1:2152 \\
    ./hexcore up --no-nat --config hexcore.toml > up.log 2>&1 &
UP=\$!
i=0
until ./hexcore conformance run --amf 127.0.0.1:38412 --transport kernel --scenario ng-setup --timeout-ms 500 --out probe > /dev/null 2>&1; do
    i=\$((i + 1))
    [ \$i -lt 60 ] || { echo "hexcore up never answered NG Setup"; cat up.log; kill \$UP; exit 2; }
    sleep 1
done
./hexcore conformance run --amf 127.0.0.1:38412 --transport kernel $SCENARIO_ARGS \\
    --profile-a-key "\$(key A)" --profile-a-id "\$(kid A)" \\
    --profile-b-key "\$(key B)" --profile-b-id "\$(kid B)" --out out \\
    --network-deregister-cmd './hexcore ue deregister --api http://127.0.0.1:9090 {supi}' \\
    --downlink-cmd "bash -c 'echo downlink > /dev/udp/{ue_ip}/9'"
rc=\$?
./hexcore pcap out/conformance.pcap > pcap.txt 2>&1 || { echo "hexcore pcap failed on the suite's capture"; tail -20 pcap.txt; rc=1; }
kill \$UP
wait \$UP 2>/dev/null
exit \$rc
EOF

say "running the suite in the VM (kernel SCTP)"
set +e
"$KIT/vmrun.sh" "$WORK" 'sh run.sh'
rc=$?
set -e
if [ -n "${OUT:-}" ]; then
    mkdir -p "$OUT" && cp -r "$WORK/out/." "$OUT/" 2>/dev/null || true
    say "results in $OUT"
fi
case $rc in
    0) say "all scenarios passed over kernel SCTP" ;;
    1) say "some scenarios failed (see the table above)" ;;
    *) say "could not run (rc=$rc)"; exit 2 ;;
esac
exit $rc
