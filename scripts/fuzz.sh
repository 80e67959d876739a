#!/usr/bin/env bash
# Runs the libFuzzer target on the RADIUS packet decoder for SECONDS (default 60), seeded with
# every datagram of Tests/RadiusProtocolTests/vectors/packets.txt. A crash or a broken property
# fails the script and leaves the input in fuzz/artifacts/ (rerun it: the binary with that file).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"

(cd fuzz && swift build -c release --sanitize fuzzer 2>&1 | grep -E 'error|warning|Compiling RadiusPacketFuzzer|Build complete' || true)
binary="fuzz/.build/release/RadiusPacketFuzzer"
[ -x "$binary" ] || { echo "ratel: the fuzzer did not build" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/seeds" "$work/corpus" fuzz/artifacts
python3 - "$work/seeds" <<'PY'
import pathlib, sys
out = pathlib.Path(sys.argv[1])
lines = pathlib.Path("Tests/RadiusProtocolTests/vectors/packets.txt").read_text().splitlines()
hexes = [line[4:].strip() for line in lines if line.startswith("hex:")]
for number, text in enumerate(hexes):
    (out / f"vector-{number:03}").write_bytes(bytes.fromhex(text))
print(f"ratel: fuzzing from {len(hexes)} seed datagrams")
PY

# -max_len covers the largest legal packet plus padding; -rss_limit_mb guards against leaks.
SWIFT_BACKTRACE=enable=no "$binary" "$work/corpus" "$work/seeds" -max_total_time="$seconds" -max_len=4200 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix=fuzz/artifacts/ 2>"$work/log" || {
    tail -40 "$work/log" >&2
    echo "ratel: the fuzzer found a failing input (see fuzz/artifacts/)" >&2
    exit 1
}
runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")"
corpus="$(ls "$work/corpus" | wc -l)"
echo "ratel: fuzzed the packet decoder for ${seconds} s: ${runs} executions, no crash, ${corpus} new corpus inputs"
