#!/usr/bin/env bash
# Kernel SCTP interop for hexcore's N2 transport, run inside a throw-away microVM
# (the sctp-vm kit: /work/shared/sctp-vm, see its README) so that it works on hosts
# whose own kernel has no SCTP.
#
#   scripts/sctp-kernel-interop.sh            # everything
#   ONLY=a scripts/sctp-kernel-interop.sh     # only part (a); ONLY=b for part (b)
#   BURST=3000 scripts/sctp-kernel-interop.sh # longer back-to-back burst (default 300)
#   LOSS=5 scripts/sctp-kernel-interop.sh     # datagram loss in the lossy runs (default 2%)
#
# (a) Kernel to kernel, plain SCTP, through hexcore-sctp-kernel:
#     - the crate's unit and integration test binaries (the tests that need SCTP
#       skip themselves on the host and really run here);
#     - examples/interop kernel-server + kernel-client: messages both ways on 4
#       streams with PPID 60, a 64 KiB message, a burst of 300 messages (per-stream
#       order checked), graceful close seen as Down.
# (b) Linux kernel SCTP over UDP (RFC 6951, Linux >= 5.11) against hexcore's
#     userspace SCTP-over-UDP stack (hexcore-sctp), both directions.
#
# How the kernel's UDP encapsulation is set up (what (b) needs):
#   - `sysctl net.sctp.udp_port=9899` opens the kernel's UDP tunnel socket on port
#     9899 (all addresses) and makes it the UDP *source* port of everything the kernel
#     encapsulates. It must be set before the SCTP sockets are created (each socket
#     copies it at creation).
#   - The userspace endpoint therefore needs another UDP port: 9900 here.
#   - Kernel listener + userspace connector: nothing more. The userspace endpoint
#     sends INIT to UDP 127.0.0.x:9899; the kernel learns the peer's UDP port (9900)
#     from the packet and answers there.
#   - Userspace listener + kernel connector: the kernel must know the peer's UDP port
#     before its INIT. Either `sysctl net.sctp.encap_port=9900` (host-wide default for
#     new sockets) or, as done here, per socket: SCTP_REMOTE_UDP_ENCAPS_PORT (linux/
#     sctp.h value 132, struct sctp_udpencaps{assoc_id=0 (FUTURE), address=all zero,
#     port=htons(9900)}): KernelOptions::remote_udp_encaps_port in hexcore-sctp-kernel.
#     Its packets then leave from UDP 9899 to UDP 9900; replies must go back to 9899.
#
# Environment: CARGO_TARGET_DIR (honoured by cargo), SCTP_VM_KIT (default
# /work/shared/sctp-vm), SCTP_VM_HOME (the kit's state dir), KEEP=1 keeps the temp dir.
# Exit status: 0 when every check passed, 1 otherwise (2: could not build or boot).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KIT="${SCTP_VM_KIT:-/work/shared/sctp-vm}"
ONLY="${ONLY:-ab}"

say() { printf '== %s\n' "$*" >&2; }

[ -x "$KIT/vmrun.sh" ] || { echo "sctp-vm kit not found at $KIT (set SCTP_VM_KIT)" >&2; exit 2; }
say "sctp-vm setup (idempotent)"
"$KIT/setup.sh" >/dev/null || { echo "sctp-vm setup.sh failed" >&2; exit 2; }

# Prints the test/example executables from cargo's JSON messages.
executables() {
    python3 -c 'import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        print(m["target"]["kind"][0], m["target"]["src_path"], m["executable"])'
}

say "building hexcore-sctp-kernel tests and the interop example"
cd "$ROOT"
BUILT="$(mktemp)"
trap 'rm -f "$BUILT"' EXIT
if ! cargo test -p hexcore-sctp-kernel --no-run --message-format=json 2>/dev/null | executables >>"$BUILT"; then
    echo "cargo test --no-run -p hexcore-sctp-kernel failed" >&2; exit 2
fi
# hexcore-sctp's own integration tests: its Transport::Kernel test only runs in the VM.
cargo test -p hexcore-sctp --test it --no-run --message-format=json 2>/dev/null | executables >>"$BUILT" || true
if ! cargo build -p hexcore-sctp --example interop --message-format=json 2>/dev/null | executables >>"$BUILT"; then
    echo "cargo build -p hexcore-sctp --example interop failed:" >&2
    cargo build -p hexcore-sctp --example interop 2>&1 | tail -20 >&2
    exit 2
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sctp-kernel-interop.XXXXXX")"
[ "${KEEP:-0}" = 1 ] || trap 'rm -f "$BUILT"; rm -rf "$WORK" 2>/dev/null || true' EXIT
while read -r kind src exe; do
    case "$kind:$src" in
        lib:*/sctp-kernel/src/lib.rs) cp "$exe" "$WORK/unit-tests" ;;
        test:*/sctp-kernel/tests/it/main.rs) cp "$exe" "$WORK/it-tests" ;;
        test:*/sctp/tests/it/main.rs) cp "$exe" "$WORK/sctp-it-tests" ;;
        example:*/sctp/examples/interop.rs) cp "$exe" "$WORK/interop" ;;
    esac
done <"$BUILT"
for f in unit-tests it-tests interop; do
    [ -x "$WORK/$f" ] || { echo "build did not produce $f" >&2; exit 2; }
done

# Does this build of the example have the userspace (udp-*) modes yet?
UDP_MODES=0
usage_text="$("$WORK/interop" help 127.0.0.1:1 2>&1 || true)"
case "$usage_text" in *udp-server*) UDP_MODES=1 ;; esac

cat >"$WORK/guest.sh" <<'GUEST'
#!/bin/sh
# Runs inside the VM, in /host (the work dir). One RESULT line per check.
ONLY="$1"; UDP_MODES="$2"; BURST="$3"; LOSS="$4"
# Every pairing: 20 lock-step messages on 4 streams, one 64 KiB message, then 300
# messages of 30-2530 bytes sent back to back (echoes read concurrently).
OPTS="--streams 4 --count 20 --large 65536 --burst ${BURST:-300}"
result() { echo "RESULT $1 $2 $3"; }
# wait_for FILE PATTERN: until a server has printed that it listens (max ~30 s).
wait_for() {
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1)); [ "$i" -gt 300 ] && return 1; sleep 0.1
    done
}
# pair NAME SERVER_ARGS -- CLIENT_ARGS: server in the background, then the client.
pair() {
    name="$1"; shift
    srv=""; while [ "$1" != "--" ]; do srv="$srv $1"; shift; done; shift
    t0=$(cut -d' ' -f1 /proc/uptime)
    ./interop $srv >"$name.server.log" 2>&1 &
    spid=$!
    if ! wait_for "$name.server.log" "listening"; then
        echo "server did not start:"; cat "$name.server.log"; kill $spid 2>/dev/null
        result "$name" 1 "server did not start"; return
    fi
    ./interop "$@" >"$name.client.log" 2>&1; crc=$?
    wait $spid; src=$?
    t1=$(cut -d' ' -f1 /proc/uptime)
    echo "--- $name server:"; cat "$name.server.log"
    echo "--- $name client:"; cat "$name.client.log"
    rc=0; [ $crc -eq 0 ] && [ $src -eq 0 ] || rc=1
    result "$name" $rc "[$(awk "BEGIN {printf \"%.1f s\", $t1 - $t0}")] $(grep -h '^PASS\|^FAIL' "$name.server.log" "$name.client.log" | tr '\n' ' ')"
}

uname -r
case "$ONLY" in *a*)
    echo "=== (a) unit tests"
    RUST_BACKTRACE=1 ./unit-tests --test-threads=2 >unit.log 2>&1; rc=$?; cat unit.log
    result a-unit-tests $rc "$(grep '^test result' unit.log)"
    echo "=== (a) integration tests (kernel SCTP)"
    RUST_BACKTRACE=1 ./it-tests --test-threads=2 --nocapture >it.log 2>&1; rc=$?; cat it.log
    if grep -q skipped it.log; then rc=1; fi
    result a-integration-tests $rc "$(grep '^test result' it.log)"
    if [ -x ./sctp-it-tests ]; then
        echo "=== (a) hexcore-sctp integration tests (its kernel-carrier test runs here)"
        RUST_BACKTRACE=1 ./sctp-it-tests --test-threads=2 >sctp-it.log 2>&1; rc=$?; cat sctp-it.log
        result a-hexcore-sctp-tests $rc "$(grep '^test result' sctp-it.log)"
    fi
    echo "=== (a) kernel-server <-> kernel-client, plain SCTP"
    pair a-kernel-kernel kernel-server 127.0.0.10:38412 $OPTS \
        -- kernel-client 127.0.0.10:38412 --local 127.0.0.11:0 $OPTS
    echo "=== (a) the N2 API's kernel carrier (hexcore-sctp Transport::Kernel) against this crate"
    if [ "$UDP_MODES" = 1 ]; then
        pair a-n2-kernel-server-kernel-client n2-kernel-server 127.0.0.12:38412 $OPTS \
            -- kernel-client 127.0.0.12:38412 $OPTS
        pair a-kernel-server-n2-kernel-client kernel-server 127.0.0.13:38412 $OPTS \
            -- n2-kernel-client 127.0.0.13:38412 $OPTS
    fi
    echo "=== (a) ABORT instead of SHUTDOWN (SO_LINGER 0 + close)"
    pair a-abort-kernel-kernel kernel-server 127.0.0.14:38412 --count 4 --large 0 --abort 1 \
        -- kernel-client 127.0.0.14:38412 --count 4 --large 0 --abort 1
;; esac

case "$ONLY" in *b*)
    echo "=== (b) kernel SCTP over UDP (RFC 6951)"
    if ! sysctl -w net.sctp.udp_port=9899; then
        result b-sysctl 1 "net.sctp.udp_port not available (kernel < 5.11?)"
    else
        # Kernel to kernel through the kernel's own UDP tunnel (9899 -> 9899): checks
        # the encapsulation set-up; the UDP counters prove the packets went over UDP.
        udp_before=$(awk '/^Udp: [0-9]/ {print $2}' /proc/net/snmp)
        pair b-kernel-kernel-over-udp kernel-server 127.0.0.15:38412 $OPTS \
            -- kernel-client 127.0.0.15:38412 --encap-port 9899 $OPTS
        udp_after=$(awk '/^Udp: [0-9]/ {print $2}' /proc/net/snmp)
        echo "UDP InDatagrams: $udp_before -> $udp_after"
        if [ $((udp_after - udp_before)) -ge 40 ]; then
            result b-kernel-udp-counters 0 "UDP InDatagrams $udp_before -> $udp_after"
        else
            result b-kernel-udp-counters 1 "UDP InDatagrams $udp_before -> $udp_after: not encapsulated?"
        fi
    fi
    if [ "$UDP_MODES" != 1 ]; then
        result b-udp-modes 1 "interop example has no udp-* modes yet (hexcore-sctp N2 API missing)"
    else
        pair b-kernel-server-udp-client kernel-server 127.0.0.20:38412 $OPTS \
            -- udp-client 127.0.0.20:9899 --local 127.0.0.21:9900 $OPTS
        pair b-udp-server-kernel-client udp-server 127.0.0.30:9900 $OPTS \
            -- kernel-client 127.0.0.30:38412 --encap-port 9900 $OPTS
        # ABORT instead of SHUTDOWN, each way (cause "User-Initiated Abort").
        AOPTS="--streams 4 --count 4 --large 0 --abort 1"
        pair b-abort-kernel-server-udp-client kernel-server 127.0.0.24:38412 $AOPTS \
            -- udp-client 127.0.0.24:9899 --local 127.0.0.25:9900 $AOPTS
        pair b-abort-udp-server-kernel-client udp-server 127.0.0.34:9900 $AOPTS \
            -- kernel-client 127.0.0.34:38412 --encap-port 9900 $AOPTS
        # IPv6: the kernel's tunnel also listens on [::]:9899.
        pair b-ipv6-kernel-server-udp-client kernel-server [::1]:38412 $OPTS \
            -- udp-client [::1]:9899 --local [::1]:9900 $OPTS
        pair b-ipv6-udp-server-kernel-client udp-server [::1]:9902 $OPTS \
            -- kernel-client [::1]:38412 --encap-port 9902 $OPTS
        # The same two pairings through a UDP relay that drops LOSS% of datagrams
        # each way: retransmission (T3-rtx, fast retransmit, gap reports) across the
        # two implementations. The relay acts like a NAT between them.
        echo "=== (b) the same through a relay dropping $LOSS% of datagrams each way"
        LOPTS="--streams 4 --count 20 --large 65536 --burst 100"
        ./interop lossy-relay 127.0.0.40:9901 --to 127.0.0.22:9899 --loss "$LOSS" >relay1.log 2>&1 &
        rpid=$!
        wait_for relay1.log listening
        pair b-lossy-kernel-server-udp-client kernel-server 127.0.0.22:38412 $LOPTS \
            -- udp-client 127.0.0.40:9901 --local 127.0.0.23:9900 $LOPTS
        kill $rpid; wait $rpid; rc=$?; cat relay1.log
        result b-lossy-relay-1 $rc "$(grep '^PASS\|^FAIL' relay1.log)"
        ./interop lossy-relay 127.0.0.41:9901 --to 127.0.0.32:9900 --loss "$LOSS" >relay2.log 2>&1 &
        rpid=$!
        wait_for relay2.log listening
        pair b-lossy-udp-server-kernel-client udp-server 127.0.0.32:9900 $LOPTS \
            -- kernel-client 127.0.0.41:38412 --encap-port 9901 $LOPTS
        kill $rpid; wait $rpid; rc=$?; cat relay2.log
        result b-lossy-relay-2 $rc "$(grep '^PASS\|^FAIL' relay2.log)"
    fi
;; esac
exit 0
GUEST
chmod +x "$WORK/guest.sh"

say "running in the microVM (work dir $WORK)"
set +e
VMRUN_QUIET=1 "$KIT/vmrun.sh" "$WORK" "./guest.sh '$ONLY' '$UDP_MODES' '${BURST:-300}' '${LOSS:-2}'"
vmrc=$?
set -e
if [ ! -s "$WORK/vm.log" ] || [ "$vmrc" -ne 0 ]; then
    echo "VM run failed (vmrun.sh exit $vmrc); console:" >&2
    tail -30 "$WORK/vm.console.log" >&2 2>/dev/null || true
    cat "$WORK/vm.log" >&2 2>/dev/null || true
    exit 2
fi
cat "$WORK/vm.log"

echo
echo "== sctp-kernel interop summary (guest kernel $(sed -n 1p "$WORK/vm.log"))"
fail=0; n=0
while read -r _ name rc detail; do
    n=$((n + 1))
    if [ "$rc" = 0 ]; then status=PASS; else status=FAIL; fail=1; fi
    printf '%-5s %-32s %s\n' "$status" "$name" "$detail"
done < <(grep '^RESULT ' "$WORK/vm.log")
[ "$n" -gt 0 ] || { echo "no results from the VM" >&2; exit 2; }
if [ "$fail" = 0 ]; then echo "ALL PASSED ($n checks)"; else echo "SOME CHECKS FAILED"; fi
exit "$fail"
