#!/usr/bin/env bash
# Ratel against FreeRADIUS 3.2 (Debian) on this machine, one after the other in one run, with
# the same load generator (RadiusLoad) and the same users: PAP authorisations per second
# (FreeRADIUS: `files`; Ratel: PAP + rating + a durable reservation), Start+Stop accounting pairs
# per second (FreeRADIUS: `detail` file, then `sql` on SQLite; Ratel: a durable debit), and
# Ratel's latency at half its peak. Each round also measures PAPFloor, PAP answered with Ratel's
# codec and nothing else (raw sockets; raw sockets with an fdatasynced record per answer; SwiftNIO):
# the ceilings any Swift design here could approach; after Ratel's half-peak phase the durable floor
# is paced at the same rate, for the tail a minimal durable server keeps in the same minutes.
# Run from the repository root: `make bench-radius`.
# For context, each round also measures FreeRADIUS as Debian ships it (its `default` site, tuned
# alike) at the first depth; the targets are judged against the minimal configuration.
#
# The machine's speed drifts by a fifth within minutes, so one pair of phases says little: the
# run alternates FreeRADIUS and Ratel ROUNDS times (3), each Ratel round on a fresh copy of the
# ledger, and the report gives every round's ratio and their median.
#
# Each server's peak is the best of three depths of requests in flight, CONCURRENCY (64),
# DEEP_CONCURRENCY (256) and DEEPEST_CONCURRENCY (1024), all measured on both servers: FreeRADIUS
# `files` and `detail` are bound by the CPU from 64 on and answer less at 1024 than at 256 (their
# queues cost more per request), while each Ratel reply waits for its group's fdatasync, so 64 and
# even 256 requests in flight leave Ratel's cores partly idle between groups (a sixth of the
# machine idle at 256 in trials, against a tenth for FreeRADIUS). The report gives the ratios at
# 64 and of the peaks, and each server's figure at every depth.
# Ratel's deep phases run on a fresh ledger copy of their own, so the accounts of the half-peak
# phase are still unused.
#
# USERS (1000000), RUN_SECONDS (10 per phase), CONCURRENCY, DEEP_CONCURRENCY, DEEPEST_CONCURRENCY,
# ROUNDS change the
# load; RATEL_BENCH_WORK (/tmp/ratel-radius-bench) keeps the generated users between runs.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${RATEL_BENCH_WORK:-/tmp/ratel-radius-bench}
USERS=${USERS:-1000000}
RUN_SECONDS=${RUN_SECONDS:-10}
CONCURRENCY=${CONCURRENCY:-64}
DEEP_CONCURRENCY=${DEEP_CONCURRENCY:-256}
DEEPEST_CONCURRENCY=${DEEPEST_CONCURRENCY:-1024}
ROUNDS=${ROUNDS:-3}
SECRET=bench-secret
FR_AUTH=28120 FR_ACCT=28130 RATEL_AUTH=28121 RATEL_ACCT=28131 RATEL_METRICS=28141 FLOOR_AUTH=28122
# The floor answers 150k+ requests a second: a shorter phase keeps it within the million users.
FLOOR_SECONDS=${FLOOR_SECONDS:-5}
TAG=$(date +%s)

"$ROOT/scripts/ensure-deps.sh" freeradius
echo "radius-compare: building ratel, the load generator and the PAP floor (release)"
(cd "$ROOT" && swift build -c release --product ratel >/dev/null)
(cd "$ROOT/benchmarks" && swift build -c release --product RadiusLoad >/dev/null)
(cd "$ROOT/benchmarks" && swift build -c release --product PAPFloor >/dev/null)
RATEL="$ROOT/.build/release/ratel"
LOAD="$ROOT/benchmarks/.build/release/RadiusLoad"
FLOOR="$ROOT/benchmarks/.build/release/PAPFloor"

# The same accounts for both: Ratel's ledger (kept pristine, copied for each run) and the CSV of
# PINs and passwords that becomes FreeRADIUS's `files` authorize file.
USERS_DIR="$WORK/users-$USERS"
if [ ! -f "$USERS_DIR/users.csv" ]; then
    echo "radius-compare: generating $USERS accounts (once; kept in $USERS_DIR)"
    rm -rf "$USERS_DIR" && mkdir -p "$USERS_DIR/ledger"
    "$RATEL" pins generate --data "$USERS_DIR/ledger" --count "$USERS" --value 100.00 --activation immediate \
        --max-calls 2 --out "$USERS_DIR/users.tmp" >/dev/null
    mv "$USERS_DIR/users.tmp" "$USERS_DIR/users.csv"
fi
CSV="$USERS_DIR/users.csv"

# One server runs at a time; only it is killed on exit (a reaped server's pid may be reused).
RUNNING=""
cleanup() { if [ -n "$RUNNING" ]; then kill -9 "$RUNNING" 2>/dev/null || true; fi; }
trap cleanup EXIT

wait_for() { # file, text, what
    for _ in $(seq 1 1200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    echo "radius-compare: $3 did not start:" >&2; tail -20 "$1" >&2; exit 1
}

load() { # kind, port, extra arguments...
    local kind=$1 port=$2; shift 2
    "$LOAD" "$kind" --port "$port" --secret "$SECRET" --users "$CSV" --seconds "$RUN_SECONDS" "$@"
}

# FreeRADIUS, as the issue tunes it: two threads, larger socket buffers (benchmarks/freeradius/).
FR="$WORK/freeradius"
rm -rf "$FR" && mkdir -p "$FR/log" "$FR/radacct" "$FR/run"
cp "$ROOT"/benchmarks/freeradius/*.conf "$FR/"
echo '$INCLUDE /usr/share/freeradius/dictionary' > "$FR/dictionary"
awk -F, 'NR > 1 { printf "%s Cleartext-Password := \"%s\"\n", $1, $2 }' "$CSV" > "$FR/authorize"
export RATEL_FR_DIR="$FR" RATEL_FR_SECRET="$SECRET" RATEL_FR_AUTH_PORT=$FR_AUTH RATEL_FR_ACCT_PORT=$FR_ACCT

# The second baseline: Debian's own configuration, its `default` site as shipped, tuned alike
# (benchmarks/freeradius/default-site.py says what else changes). Operators start from it; the
# minimal configuration above is the issue's "plain PAP from `files`" and the one judged.
FR_DEFAULT="$WORK/freeradius-default"
rm -rf "$FR_DEFAULT" && cp -a /etc/freeradius/3.0 "$FR_DEFAULT"
python3 "$ROOT/benchmarks/freeradius/default-site.py" "$FR_DEFAULT" "$SECRET" $FR_AUTH $FR_ACCT
ln -sf "$FR/authorize" "$FR_DEFAULT/mods-config/files/authorize"

FR_NAME="" FR_DIR=""
freeradius_start() { # configuration name (detail, sql, or radiusd for the default site), its folder
    FR_NAME=$1 FR_DIR=$2
    : > "$FR_DIR/log/radius.log"
    freeradius -f -n "$FR_NAME" -d "$FR_DIR" &
    RUNNING=$!
    wait_for "$FR_DIR/log/radius.log" "Ready to process requests" "freeradius ($FR_NAME)"
}
freeradius_run() { # configuration name, its folder, then the phases to run
    freeradius_start "$1" "$2"
    shift 2
    "$@"
    kill -9 "$RUNNING" 2>/dev/null || true
    wait "$RUNNING" 2>/dev/null || true
    RUNNING=""
}

# Results go into the repository, not $WORK: the README cites runs by their file, and a committed
# copy keeps the citation checkable after the machine is gone (commit the ones you cite).
RESULTS_DIR="$ROOT/benchmarks/results"
mkdir -p "$RESULTS_DIR"
RESULTS="$RESULTS_DIR/results-$TAG.jsonl"
: > "$RESULTS"
record() { # label, JSON from RadiusLoad
    echo "{\"label\":\"$1\",\"result\":$2}" >> "$RESULTS"
    echo "  $1: $2"
}
# What was measured, for the report's first line: `ratel`'s commit (and whether the tree differed
# from it), the date and the machine, since the figures move with each of them.
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=false
[ -z "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] || DIRTY=true
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
record run "$(python3 -c 'import json,sys; print(json.dumps({"commit": sys.argv[1], "dirty": sys.argv[2] == "true", "date": sys.argv[3],
"cpu": sys.argv[4], "cpus": int(sys.argv[5])}, separators=(",", ":")))' "$COMMIT" "$DIRTY" "$(date -u +%Y-%m-%dT%H:%MZ)" "$CPU" "$(nproc)")"

# A process's CPU time so far (every thread, user and system), in seconds: /proc/PID/stat after
# the command name, whose parentheses may hold spaces, has utime and stime as fields 12 and 13.
TICKS=$(getconf CLK_TCK)
cpu_seconds() { # pid; nothing if it is gone
    sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk -v ticks="$TICKS" '{ printf "%.3f", ($12 + $13) / ticks }' || true
}
# How long a process's threads have waited, runnable, for a CPU so far (the second field of each
# thread's schedstat, nanoseconds), in seconds; nothing if it is gone. Threads that end during a
# phase take their share with them: the servers here keep theirs for their lifetime.
wait_seconds() { # pid
    cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ waited += $2 } END { if (NR) printf "%.3f", waited / 1e9 }' || true
}
# CPU time the hypervisor gave to others while this VM wanted it (steal, the eighth field of the
# cpu line of /proc/stat, every CPU summed), in seconds: a latency tail with no queue inside the
# guest may be time its CPUs did not run at all.
steal_seconds() {
    awk -v ticks="$TICKS" '$1 == "cpu" { printf "%.3f", $9 / ticks }' /proc/stat
}
CPUS=$(nproc)
# Runs a phase (a RadiusLoad command line) and records it with the server's CPU time during it,
# so the report can give both sides' CPU per request: the machine is shared with the generator.
# Also how long the server's threads waited for a CPU: a latency tail on two shared cores can be
# a queue for the CPU rather than anything the server does.
# The recorded JSON is left in PHASE for the phases that depend on it.
PHASE=""
record_served() { # label, server pid, command...
    local label=$1 pid=$2 before waited stolen result
    shift 2
    before=$(cpu_seconds "$pid")
    waited=$(wait_seconds "$pid")
    stolen=$(steal_seconds)
    result=$("$@")
    # A server that died during the phase has no CPU figure; its lost requests say what happened.
    PHASE=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1])
if sys.argv[2] and sys.argv[3]: d["server_cpu_s"]=round(float(sys.argv[3])-float(sys.argv[2]),3)
if sys.argv[4] and sys.argv[5]: d["server_wait_s"]=round(float(sys.argv[5])-float(sys.argv[4]),3)
d["machine_steal_s"]=round(float(sys.argv[7])-float(sys.argv[6]),3); d["cpus"]=int(sys.argv[8])
print(json.dumps(d, separators=(",", ":")))' "$result" "$before" "$(cpu_seconds "$pid")" "$waited" "$(wait_seconds "$pid")" \
        "$stolen" "$(steal_seconds)" "$CPUS")
    record "$label" "$PHASE"
}

# FreeRADIUS 3.2.1 (Debian 12) died once here with a segmentation fault, in a `detail` phase at
# 256 in flight. Its log was full of "Received conflicting packet ... due to unfinished request in
# module": the generator then reused an Identifier as soon as its reply was in (and each Stop its
# Start's), and FreeRADIUS had not yet finished with the old request. It now reuses the Identifier
# free longest (RadiusLoad's IdentifierQueue), which left 58 to 241 such lines instead of 4,658 to
# 6,417 in trials of a PAP and an accounting phase at one depth (issue 4's notes). Still, a phase
# in which FreeRADIUS dies is recorded as a crash and run again (twice at most) on a restarted
# server, and the report counts the crashes: one crash of the baseline must not end the run.
fr_phase() { # label, then RadiusLoad's kind, port and arguments
    local label=$1 attempt
    shift
    for attempt in 1 2 3; do
        record_served "$label" "$RUNNING" load "$@"
        if kill -0 "$RUNNING" 2>/dev/null; then return 0; fi
        wait "$RUNNING" 2>/dev/null || true
        record "freeradius_crash_in_$label" "{\"attempt\":$attempt}"
        echo "radius-compare: freeradius died during $label; restarting it" >&2
        freeradius_start "$FR_NAME" "$FR_DIR"
    done
}
fr_files_detail() {
    fr_phase "freeradius_auth#$ROUND" auth $FR_AUTH --concurrency "$CONCURRENCY" --sessions "fr$ROUND-$TAG"
    fr_phase "freeradius_acct_detail#$ROUND" acct $FR_ACCT --concurrency "$CONCURRENCY" --sessions "fr$ROUND-$TAG"
    fr_phase "freeradius_auth_deep#$ROUND" auth $FR_AUTH --concurrency "$DEEP_CONCURRENCY" --sessions "frd$ROUND-$TAG"
    fr_phase "freeradius_acct_detail_deep#$ROUND" acct $FR_ACCT --concurrency "$DEEP_CONCURRENCY" --sessions "frd$ROUND-$TAG"
    fr_phase "freeradius_auth_deepest#$ROUND" auth $FR_AUTH --concurrency "$DEEPEST_CONCURRENCY" --sessions "fre$ROUND-$TAG"
    fr_phase "freeradius_acct_detail_deepest#$ROUND" acct $FR_ACCT --concurrency "$DEEPEST_CONCURRENCY" \
        --sessions "fre$ROUND-$TAG"
}
fr_default_site() {
    fr_phase "freeradius_default_auth#$ROUND" auth $FR_AUTH --concurrency "$CONCURRENCY" --sessions "frs$ROUND-$TAG"
    fr_phase "freeradius_default_acct#$ROUND" acct $FR_ACCT --concurrency "$CONCURRENCY" --sessions "frs$ROUND-$TAG"
}
fr_sql() {
    fr_phase freeradius_acct_sql acct $FR_ACCT --concurrency "$CONCURRENCY" --sessions "frsql-$TAG"
    fr_phase freeradius_acct_sql_deep acct $FR_ACCT --concurrency "$DEEP_CONCURRENCY" --sessions "frsqld-$TAG"
}

# One phase against PAPFloor on `transport`, started for it and killed after it.
floor_phase() { # label, transport, then RadiusLoad's arguments after the users
    local label=$1 transport=$2
    shift 2
    rm -f "$WORK"/floor-journal.*
    "$FLOOR" "$transport" --port "$FLOOR_AUTH" --secret "$SECRET" --users "$CSV" --journal "$WORK/floor-journal" \
        > "$WORK/floor.log" 2>&1 &
    RUNNING=$!
    wait_for "$WORK/floor.log" "papfloor: listening" "PAPFloor ($transport)"
    record_served "$label" "$RUNNING" "$LOAD" auth --port "$FLOOR_AUTH" --secret "$SECRET" --users "$CSV" "$@"
    kill -9 "$RUNNING"; wait "$RUNNING" 2>/dev/null || true
    RUNNING=""
    rm -f "$WORK"/floor-journal.*
}
floor_round() {
    local transport
    for transport in sockets sockets-journal nio; do
        floor_phase "floor_$transport#$ROUND" "$transport" --seconds "$FLOOR_SECONDS" --concurrency "$CONCURRENCY" \
            --sessions "fl$ROUND-$TAG"
    done
}

# Ratel on a fresh copy of the pristine ledger each round, with its shipped retail plan.
DATA="$WORK/ratel-run"
cat > "$WORK/ratel.toml" <<EOF
[listen]
auth = ["127.0.0.1:$RATEL_AUTH"]
acct = ["127.0.0.1:$RATEL_ACCT"]
metrics = "127.0.0.1:$RATEL_METRICS"

[plans]
default = "$ROOT/ratesheets/retail/plan.toml"

[logging]
level = "warning"

[[client]]
name = "bench"
address = "127.0.0.1"
secret = "$SECRET"
EOF
ratel_start() {
    rm -rf "$DATA" && cp -r "$USERS_DIR/ledger" "$DATA" && cp "$WORK/ratel.toml" "$DATA/ratel.toml"
    # The copy's 200 MB of dirty pages would otherwise be written back half a minute later, in the
    # middle of the latency phase, and hold up the server's own fsyncs by a tenth of a second.
    sync
    "$RATEL" serve --config "$DATA/ratel.toml" --data "$DATA" > "$DATA/serve.log" 2>&1 &
    RATEL_PID=$!
    RUNNING=$RATEL_PID
    wait_for "$DATA/serve.log" "ratel: clients:" "ratel serve"
}
ratel_stop_and_check() { # label suffix
    kill -TERM "$RATEL_PID"; wait "$RATEL_PID" 2>/dev/null || true
    RUNNING=""
    "$RATEL" ledger check --data "$DATA" > "$WORK/ledger-check.json"
    record "ratel_ledger_check$1#$ROUND" "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps({"problems": len(d["problems"]), "overruns": d["overruns"], "open_reservations": d["open_reservations"]}))' "$WORK/ledger-check.json")"
}
# Authorisations, then Start+Stop for the calls just authorised: each Stop commits its
# reservation as a debit. Leaves the authorisation rate in PEAK and their count in AUTHORISED.
ratel_pap_and_accounting() { # label suffix, concurrency, sessions
    record_served "ratel_auth$1#$ROUND" "$RATEL_PID" load auth $RATEL_AUTH --concurrency "$2" --sessions "$3"
    AUTHORISED=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["completed"])' "$PHASE")
    PEAK=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["per_second"])' "$PHASE")
    record_served "ratel_acct$1#$ROUND" "$RATEL_PID" load acct $RATEL_ACCT --concurrency "$2" --sessions "$3" --count "$AUTHORISED"
}
ratel_round() {
    ratel_start
    ratel_pap_and_accounting _deepest "$DEEPEST_CONCURRENCY" "rte$ROUND-$TAG"
    local peak=$PEAK
    ratel_stop_and_check _deepest
    ratel_start
    ratel_pap_and_accounting _deep "$DEEP_CONCURRENCY" "rtd$ROUND-$TAG"
    peak=$(( PEAK > peak ? PEAK : peak ))
    ratel_stop_and_check _deep
    ratel_start
    ratel_pap_and_accounting "" "$CONCURRENCY" "rt$ROUND-$TAG"
    # Half of the peak (the best depth's), paced (open loop), on accounts not used yet: the
    # latency an operator sees.
    peak=$(( PEAK > peak ? PEAK : peak ))
    # And how long the ledger's writes took meanwhile, from Ratel's own metrics: a reply waits
    # for its group's write, so a tail the disk made shows there (issue 4's notes: these VMs'
    # disks stall for tens of milliseconds at times, whoever writes).
    local writes
    writes=$(python3 "$ROOT/benchmarks/ledger-writes.py" "http://127.0.0.1:$RATEL_METRICS/metrics")
    # And whether the disk itself stopped meanwhile: requests held with none completed.
    python3 "$ROOT/benchmarks/disk-stalls.py" "$DATA" $((RUN_SECONDS + 1)) > "$WORK/disk-stalls.json" &
    local stalls=$!
    record_served "ratel_auth_half_peak#$ROUND" "$RATEL_PID" load auth $RATEL_AUTH --concurrency 4096 --rate $((peak / 2)) \
        --first "$AUTHORISED" --sessions "rth$ROUND-$TAG"
    writes=$(python3 "$ROOT/benchmarks/ledger-writes.py" "http://127.0.0.1:$RATEL_METRICS/metrics" --since-stdin <<< "$writes")
    record "ratel_ledger_writes_half_peak#$ROUND" "$writes"
    wait "$stalls"
    record "ratel_disk_stalls_half_peak#$ROUND" "$(cat "$WORK/disk-stalls.json")"
    ratel_stop_and_check ""
    # The same rate against the durable floor (a record per answer fdatasynced before the replies,
    # and nothing else), right after: the tail a minimal durable server keeps in the same minutes,
    # next to Ratel's. In trials the two differed by far more than the machine drifted between
    # them (issue 4's notes).
    floor_phase "floor_durable_half_peak#$ROUND" sockets-journal --seconds "$RUN_SECONDS" --concurrency 4096 \
        --rate $((peak / 2)) --sessions "flh$ROUND-$TAG"
}

echo "radius-compare: FreeRADIUS $(freeradius -v | head -1 | sed 's/.*Version //; s/,.*//'), $USERS users, $ROUNDS rounds"
freeradius_run sql "$FR" fr_sql
for ROUND in $(seq 1 "$ROUNDS"); do
    echo "radius-compare: round $ROUND of $ROUNDS"
    freeradius_run detail "$FR" fr_files_detail
    freeradius_run radiusd "$FR_DEFAULT" fr_default_site
    floor_round
    ratel_round
done

python3 "$ROOT/benchmarks/radius-report.py" "$RESULTS" | tee "$RESULTS_DIR/results-$TAG.md"
echo "radius-compare: results in benchmarks/results/results-$TAG.md (and .jsonl)"
