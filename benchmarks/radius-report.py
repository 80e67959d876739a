#!/usr/bin/env python3
"""Turns radius-compare.sh's results (one JSON object per phase, labelled `name#round`) into the
README's tables: every round's figures and ratios, then each target against the median ratio.
A phase measured at several depths of requests in flight has `_deep` and `_deepest` twins; a
server's peak is the best of them (older results have fewer twins or none, and their peak is the
best depth measured). A `run`
entry, where there is one, names the commit, date and machine measured."""
import json
import statistics
import sys

rows = {}
# Phases FreeRADIUS died in: each was run again on a restarted server, and the rerun is in rows.
crashes = []
for line in open(sys.argv[1]):
    entry = json.loads(line)
    if entry["label"].startswith("freeradius_crash_in_"):
        crashes.append(entry["label"].removeprefix("freeradius_crash_in_"))
        continue
    rows[entry["label"]] = entry["result"]

run = rows.pop("run", None)
if run:
    print(f"`make bench-radius` with `ratel` at {run['commit']}{' (with uncommitted changes)' if run['dirty'] else ''}, "
          f"{run['date']}, on {run['cpus']} × {run['cpu']}.\n")

rounds = sorted({int(label.split("#")[1]) for label in rows if "#" in label})
sql = max((rows[name] for name in ("freeradius_acct_sql", "freeradius_acct_sql_deep") if name in rows),
          key=lambda result: result["per_second"], default=None)
deep = bool(rounds) and all(f"ratel_acct_deep#{r}" in rows for r in rounds)
# The depths every round measured, as label suffixes, shallowest first.
TWINS = ("", "_deep", "_deepest")
twins = tuple(twin for twin in TWINS
              if rounds and all(f"{name}{twin}#{r}" in rows for r in rounds for name in ("ratel_auth", "ratel_acct")))


def get(name, round_):
    return rows[f"{name}#{round_}"]


def ratio(name, baseline, round_):
    return get(name, round_)["per_second"] / get(baseline, round_)["per_second"]


def peak(name, round_):
    return max((rows[label] for label in (f"{name}{twin}#{round_}" for twin in TWINS) if label in rows),
               key=lambda result: result["per_second"])


def peak_ratio(name, baseline, round_):
    return peak(name, round_)["per_second"] / peak(baseline, round_)["per_second"]


def at_depth(result):
    return f"{result['per_second']:,}/s ({result['concurrency']})"


def faults(result):
    return result["rejected"] + result["lost"] + result.get("other", 0)


if rounds:
    print(f"At {get('ratel_auth', rounds[0])['concurrency']} requests in flight:\n")
print("| round | FreeRADIUS `files` | Ratel PAP | ratio | FreeRADIUS `detail` | Ratel Start+Stop | ratio | "
      "Ratel at half peak: rate, p50 / p99 (max) |")
print("|---|---|---|---|---|---|---|---|")
for r in rounds:
    fr_auth, auth = get("freeradius_auth", r), get("ratel_auth", r)
    fr_acct, acct = get("freeradius_acct_detail", r), get("ratel_acct", r)
    half = get("ratel_auth_half_peak", r)
    print(f"| {r} | {fr_auth['per_second']:,} auth/s | {auth['per_second']:,} auth/s | "
          f"{ratio('ratel_auth', 'freeradius_auth', r):.2f}x | {fr_acct['per_second']:,} pairs/s | "
          f"{acct['per_second']:,} pairs/s | {ratio('ratel_acct', 'freeradius_acct_detail', r):.2f}x | "
          f"{half['per_second']:,}/s, {half['p50_ms']} / {half['p99_ms']} ms ({half['max_ms']}) |")
if deep:
    print("\nPeaks: each server's best depth of requests in flight (in brackets), in the same round:\n")
    print("| round | FreeRADIUS `files` | Ratel PAP | ratio | FreeRADIUS `detail` | Ratel Start+Stop | ratio |")
    print("|---|---|---|---|---|---|---|")
    for r in rounds:
        print(f"| {r} | {at_depth(peak('freeradius_auth', r))} | {at_depth(peak('ratel_auth', r))} | "
              f"{peak_ratio('ratel_auth', 'freeradius_auth', r):.2f}x | {at_depth(peak('freeradius_acct_detail', r))} | "
              f"{at_depth(peak('ratel_acct', r))} | {peak_ratio('ratel_acct', 'freeradius_acct_detail', r):.2f}x |")
if len(twins) > 2:
    print("\nEvery depth of requests in flight, median of the rounds:\n")
    print("| in flight | FreeRADIUS `files` | Ratel PAP | ratio | FreeRADIUS `detail` | Ratel Start+Stop | ratio |")
    print("|---|---|---|---|---|---|---|")
    for twin in twins:
        def median_rate(name):
            return statistics.median(get(f"{name}{twin}", r)["per_second"] for r in rounds)
        fr_auth, auth = median_rate("freeradius_auth"), median_rate("ratel_auth")
        fr_acct, acct = median_rate("freeradius_acct_detail"), median_rate("ratel_acct")
        print(f"| {get(f'ratel_auth{twin}', rounds[0])['concurrency']} | {fr_auth:,.0f} auth/s | {auth:,.0f} auth/s | "
              f"{auth / fr_auth:.2f}x | {fr_acct:,.0f} pairs/s | {acct:,.0f} pairs/s | {acct / fr_acct:.2f}x |")
# Debian's default site, tuned alike, answers the same load at the first depth only; results from
# before it was measured have no such phases.
default_site = bool(rounds) and all(f"freeradius_default_auth#{r}" in rows for r in rounds)
if default_site:
    depth = get("ratel_auth", rounds[0])["concurrency"]
    print(f"\nFreeRADIUS as Debian ships it (its `default` site: `files` among eleven authorize modules; accounting "
          f"through four preacct modules to `detail`, `unix` and `exec`), tuned alike, against Ratel, both at {depth} in flight:\n")
    print("| round | FreeRADIUS default site, PAP | Ratel PAP | ratio | FreeRADIUS default site, accounting | "
          "Ratel Start+Stop | ratio |")
    print("|---|---|---|---|---|---|---|")
    for r in rounds:
        print(f"| {r} | {get('freeradius_default_auth', r)['per_second']:,} auth/s | {get('ratel_auth', r)['per_second']:,} auth/s | "
              f"{ratio('ratel_auth', 'freeradius_default_auth', r):.2f}x | "
              f"{get('freeradius_default_acct', r)['per_second']:,} pairs/s | {get('ratel_acct', r)['per_second']:,} pairs/s | "
              f"{ratio('ratel_acct', 'freeradius_default_acct', r):.2f}x |")
    shipped = statistics.median(ratio("freeradius_default_auth", "freeradius_auth", r) for r in rounds)
    shipped_acct = statistics.median(ratio("freeradius_default_acct", "freeradius_acct_detail", r) for r in rounds)
    print(f"\nMedians: Ratel PAP {statistics.median(ratio('ratel_auth', 'freeradius_default_auth', r) for r in rounds):.2f}x, "
          f"Start+Stop {statistics.median(ratio('ratel_acct', 'freeradius_default_acct', r) for r in rounds):.2f}x the "
          f"default site; the default site answers {shipped:.2f}x the PAP and {shipped_acct:.2f}x the accounting "
          "of the minimal configuration the targets are judged against.")
# Older results have no durable floor, the oldest no floor at all: the table shows what was measured.
floor_names = {"floor_sockets": "raw sockets", "floor_sockets-journal": "raw sockets, durable", "floor_nio": "SwiftNIO"}
floors = tuple(name for name in floor_names if rounds and all(f"{name}#{r}" in rows for r in rounds))
if floors:
    print("\nPAP floor: the same requests answered by PAPFloor (Ratel's codec and a table of passwords, "
          "nothing else; durable: plus a record per answer fdatasynced before the replies), "
          "against FreeRADIUS `files` in the same round:\n")
    print("| round | " + " | ".join(f"floor, {floor_names[name]} | ratio" for name in floors) + " | Ratel PAP | ratio |")
    print("|---|" + "---|---|" * (len(floors) + 1))
    for r in rounds:
        cells = [f"{get(name, r)['per_second']:,} auth/s | {ratio(name, 'freeradius_auth', r):.2f}x"
                 for name in floors + ("ratel_auth",)]
        print(f"| {r} | " + " | ".join(cells) + " |")
    medians = [f"{floor_names.get(name, 'Ratel')} {statistics.median(ratio(name, 'freeradius_auth', r) for r in rounds):.2f}x"
               for name in floors + ("ratel_auth",)]
    print(f"\nMedians against `files`: floor on {'; on '.join(medians[:-1])}; {medians[-1]}.")


def ledger_writes(writes):
    """A half-peak row's cell: how many of the phase's ledger writes were slow."""
    return f" {writes['over_5ms']} / {writes['over_25ms']} / {writes['over_100ms']} of {writes['writes']:,} |"


def disk_stalls(stalls):
    """A half-peak row's cell: how often, and how long at most, the disk held requests with none completed."""
    return f" {stalls['over_25ms']} / {stalls['over_100ms']} ({stalls['longest_ms']} ms) |"


def disk(r):
    """Round r's watch of the disk during the half-peak phase; empty if it was not watched."""
    return rows.get(f"ratel_disk_stalls_half_peak#{r}", {})


def disk_watched(r):
    return "longest_ms" in disk(r)


def floor_tail(result):
    """A half-peak row's cell: the durable floor's p99 (and max) at the rate Ratel was paced at."""
    return f" {result['p99_ms']} ms ({result['max_ms']}) |"


def steal_share(result):
    """The share of the phase's CPU time (every CPU) that the hypervisor gave to others, %."""
    return 100 * result["machine_steal_s"] / (result["seconds"] * result["cpus"])


def micros_per_request(result, key):
    """A phase's CPU time (`key`: server_cpu_s or generator_cpu_s) per answered request, µs."""
    return result[key] * 1e6 / max(1, result["completed"])


# CPU time per answered request (per Start+Stop pair for accounting), the server's and the load
# generator's, at each depth: on two shared cores, a server's rate follows from what both spend on
# each request. A cell without the figure in every round (older results, a server that died, a
# depth not measured) is a dash.
cpu_rows = [("freeradius_auth", "FreeRADIUS `files`"), ("freeradius_default_auth", "FreeRADIUS default site"),
            ("ratel_auth", "Ratel PAP"), ("floor_nio", f"floor, {floor_names['floor_nio']}"),
            ("freeradius_acct_detail", "FreeRADIUS `detail` (pair)"),
            ("freeradius_default_acct", "FreeRADIUS default site (pair)"), ("ratel_acct", "Ratel Start+Stop (pair)")]


def cpu_cell(name):
    if not rounds or not all("server_cpu_s" in rows.get(f"{name}#{r}", {}) for r in rounds):
        return None
    server = statistics.median(micros_per_request(get(name, r), "server_cpu_s") for r in rounds)
    generator = statistics.median(micros_per_request(get(name, r), "generator_cpu_s") for r in rounds)
    return f"{server:.1f} / {generator:.1f}"


cpu_depths = [twin for twin in TWINS if any(cpu_cell(name + twin) for name, _ in cpu_rows)]
cpu_table = [(title, cells) for name, title in cpu_rows
             if any(cells := [cpu_cell(name + twin) for twin in cpu_depths])]
if cpu_table:
    print("\nCPU per request, server / load generator (µs; accounting per Start+Stop pair), median of the rounds, "
          "by requests in flight:\n")
    depth_names = {twin: str(next(get(f"{name}{twin}", r)["concurrency"] for name, _ in cpu_rows for r in rounds[:1]
                                  if f"{name}{twin}#{r}" in rows)) for twin in cpu_depths}
    print("| | " + " | ".join(depth_names[twin] for twin in cpu_depths) + " |")
    print("|---|" + "---|" * len(cpu_depths))
    for title, cells in cpu_table:
        print(f"| {title} | " + " | ".join(cell or "–" for cell in cells) + " |")
# Time spent runnable but waiting for a CPU during the half-peak phase, as a share of the phase:
# on two cores shared by server and generator, a latency tail there is a queue for the CPU when
# these are high, and the generator's own waits are inside every latency it measures.
if rounds and all({"server_cpu_s", "server_wait_s", "generator_wait_s"} <= get("ratel_auth_half_peak", r).keys()
                  for r in rounds):
    print("\nAt half peak: Ratel's CPU per request, and time waiting for a CPU as a share of the phase "
          "(all threads summed), against the p99:\n")
    # Results from before the steal figure was recorded have no such column.
    stolen = all("machine_steal_s" in get("ratel_auth_half_peak", r) for r in rounds)
    # Results from before RadiusLoad read the kernel's arrival stamps have no such column.
    arrived = all("arrival_p99_ms" in get("ratel_auth_half_peak", r) for r in rounds)
    # Results from before Ratel's metrics timed its ledger writes have no such column.
    written = all(f"ratel_ledger_writes_half_peak#{r}" in rows for r in rounds)
    # Results from before the durable floor was paced at the same rate have no such column.
    floored = all(f"floor_durable_half_peak#{r}" in rows for r in rounds)
    # Results from before the disk was watched, or from a data directory on no block device, have no such column.
    watched = all(disk_watched(r) for r in rounds)
    print("| round | Ratel CPU per request | Ratel's threads waiting | load generator's waiting |"
          + (" machine's CPUs stolen |" if stolen else "") + " p99 |"
          + (" p99 to the reply's arrival |" if arrived else "")
          + (" ledger writes over 5 / 25 / 100 ms |" if written else "")
          + (" disk stalls over 25 / 100 ms (longest) |" if watched else "")
          + (" durable floor at the same rate: p99 (max) |" if floored else ""))
    print("|---|---|---|---|" + ("---|" if stolen else "") + "---|" + ("---|" if arrived else "") + ("---|" if written else "")
          + ("---|" if watched else "") + ("---|" if floored else ""))
    for r in rounds:
        half = get("ratel_auth_half_peak", r)
        print(f"| {r} | {micros_per_request(half, 'server_cpu_s'):.1f} µs | "
              f"{100 * half['server_wait_s'] / half['seconds']:.1f}% | "
              f"{100 * half['generator_wait_s'] / half['seconds']:.1f}% | "
              + (f"{steal_share(half):.1f}% | " if stolen else "") + f"{half['p99_ms']} ms |"
              + (f" {half['arrival_p99_ms']} ms |" if arrived else "")
              + (ledger_writes(rows[f"ratel_ledger_writes_half_peak#{r}"]) if written else "")
              + (disk_stalls(disk(r)) if watched else "")
              + (floor_tail(get("floor_durable_half_peak", r)) if floored else ""))
    if arrived:
        print("\nThe p99 is timed from each request's send to the generator reading its reply; the last "
              "column to the reply's arrival at the generator's socket (the kernel's receive timestamp), "
              "so without the time the reply then waited for the generator, itself at times waiting for a "
              "CPU. The target is judged on the first.")
    if floored:
        print("\nThe durable floor (PAPFloor: Ratel's codec, a table of the passwords and a record per answer "
              "fdatasynced before the replies, nothing else) answered the same paced requests right after each "
              "round's half-peak phase: the tail a minimal durable server keeps in the same minutes.")
    if written:
        print("\nThe ledger's writes are timed by Ratel itself (`ratel_ledger_write_duration_seconds`): each "
              "group's rows and the fdatasync that makes them durable, which every reply of the group waits for. "
              "Writes far past 5 ms in a round whose p99 failed point at the disk, not at the server's CPU.")
    if watched:
        print("\nThe disk's stalls are read from the kernel's counters for its block device, every 5 ms during the "
              "phase (benchmarks/disk-stalls.py): a stall is a stretch in which the device held requests and "
              "completed none, so its length is the device's, not a queue Ratel made.")
if sql:
    print(f"\nFreeRADIUS `sql` (SQLite), the better of the depths measured: {sql['per_second']:,} pairs/s at "
          f"{sql['concurrency']} in flight, p50 / p99 {sql['p50_ms']} / {sql['p99_ms']} ms, {sql['lost']} lost.")


def target(what, ratios, goal, unit="x"):
    median = statistics.median(ratios)
    meeting = sum(1 for value in ratios if value >= goal)
    verdict = ("met" if median >= goal else "NOT met") + " (judged on the median)"
    listed = ", ".join(f"{value:.2f}{unit}" for value in ratios)
    print(f"| {what} | {median:.2f}{unit} ({listed}) | {meeting} of {len(ratios)} | {verdict} |")


print("\n| target | median of the rounds (each round) | rounds meeting it | verdict |")
print("|---|---|---|---|")
measured = "peaks" if deep else "at one depth"
target(f"Ratel PAP >= 1.2x FreeRADIUS `files` ({measured})",
       [peak_ratio("ratel_auth", "freeradius_auth", r) for r in rounds], 1.2)
target(f"Ratel Start+Stop >= 1.0x FreeRADIUS `detail` ({measured})",
       [peak_ratio("ratel_acct", "freeradius_acct_detail", r) for r in rounds], 1.0)
if sql:
    target(f"Ratel Start+Stop >= 10x FreeRADIUS `sql` ({measured})",
           [peak("ratel_acct", r)["per_second"] / sql["per_second"] for r in rounds], 10)
if deep:
    depth = get("ratel_auth", rounds[0])["concurrency"]
    target(f"(the same, both at {depth} in flight) PAP >= 1.2x `files`",
           [ratio("ratel_auth", "freeradius_auth", r) for r in rounds], 1.2)
    target(f"(the same, both at {depth} in flight) Start+Stop >= 1.0x `detail`",
           [ratio("ratel_acct", "freeradius_acct_detail", r) for r in rounds], 1.0)
p99s = [get("ratel_auth_half_peak", r)["p99_ms"] for r in rounds]
below = sum(1 for value in p99s if value < 5)
print(f"| Ratel p99 < 5 ms at half its peak | {statistics.median(p99s)} ms ({', '.join(f'{v} ms' for v in p99s)}) | "
      f"{below} of {len(p99s)} | {'met' if below == len(p99s) else 'NOT met'} (judged on every round) |")
# The verdict stays the rounds' own; how long the disk stopped in each failed round is said beside it.
failed = [r for r, value in zip(rounds, p99s) if value >= 5]
if failed and all(disk_watched(r) for r in failed):
    print("\nHalf-peak rounds over 5 ms, and the longest time the disk held requests and completed none during "
          "each: " + ", ".join(f"round {r}: {disk(r)['longest_ms']} ms" for r in failed) + ".")

steals = [(steal_share(result), label) for label, result in rows.items() if "machine_steal_s" in result]
if steals:
    worst, where = max(steals)
    print(f"\nCPU time the hypervisor gave to others (steal), as a share of each phase's: at most {worst:.1f}% "
          f"({where}), median {statistics.median(share for share, _ in steals):.1f}% over {len(steals)} phases.")

ratel_faults = sum(faults(get(name, r)) for r in rounds
                   for name in [f"ratel_{kind}{twin}" for kind in ("auth", "acct") for twin in twins] + ["ratel_auth_half_peak"])
fr_faults = sum(faults(get(f"{name}{twin}", r)) for r in rounds for name in ("freeradius_auth", "freeradius_acct_detail")
                for twin in twins)
if default_site:
    fr_faults += sum(faults(get(name, r)) for r in rounds for name in ("freeradius_default_auth", "freeradius_default_acct"))
floor_faults = sum(faults(get(name, r)) for r in rounds for name in floors)
print(f"\nRejected, lost or unexpected replies: Ratel {ratel_faults}, FreeRADIUS {fr_faults}"
      + (f", PAPFloor {floor_faults}." if floors else "."))
if crashes:
    print(f"FreeRADIUS died {len(crashes)} time(s), in {', '.join(crashes)}; each such phase was run again on a "
          "restarted server, and the tables give the rerun.")
checks = [rows[label] for r in rounds for label in (f"ratel_ledger_check{twin}#{r}" for twin in TWINS) if label in rows]
if checks:
    print(f"Ratel's ledger after each round: {sum(c['problems'] for c in checks)} problems, "
          f"{sum(c['overruns'] for c in checks)} overruns in all; "
          f"{', '.join(str(c['open_reservations']) for c in checks)} open reservations.")
