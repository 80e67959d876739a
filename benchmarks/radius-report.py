#!/usr/bin/env python3
"""Turns radius-compare.sh's results (one JSON object per phase) into the README's table."""
import json
import sys

rows = {}
for line in open(sys.argv[1]):
    entry = json.loads(line)
    rows[entry["label"]] = entry["result"]

def rate(label):
    return rows[label]["per_second"]

def line(what, label, unit, baseline=None, target=None):
    r = rows[label]
    ratio = f"{r['per_second'] / rate(baseline):.2f}x" if baseline else ""
    verdict = ""
    if target is not None and baseline:
        verdict = "met" if r["per_second"] / rate(baseline) >= target else f"NOT met (target {target}x)"
    faults = f"{r['rejected']} rejected, {r['lost']} lost, {r['other']} other"
    print(f"| {what} | {r['per_second']:,} {unit} | {r['p50_ms']} / {r['p99_ms']} ms | {ratio} {verdict} | {faults} |")

print("| run | throughput | p50 / p99 | ratio | faults |")
print("|---|---|---|---|---|")
line("FreeRADIUS `files` PAP", "freeradius_auth", "auth/s")
line("Ratel PAP + rating + durable reservation", "ratel_auth", "auth/s", "freeradius_auth", 1.2)
line("FreeRADIUS `detail` Start+Stop", "freeradius_acct_detail", "pairs/s")
line("FreeRADIUS `sql` (SQLite) Start+Stop", "freeradius_acct_sql", "pairs/s")
line("Ratel Start+Stop, durable debit", "ratel_acct", "pairs/s", "freeradius_acct_detail", 1.0)
line("Ratel Start+Stop vs `sql`", "ratel_acct", "pairs/s", "freeradius_acct_sql", 10)
half = rows["ratel_auth_half_peak"]
verdict = "met" if half["p99_ms"] < 5 else "NOT met (target < 5 ms)"
print(f"| Ratel PAP at half its peak ({half['rate']:,}/s offered) | {half['per_second']:,} auth/s | "
      f"{half['p50_ms']} / {half['p99_ms']} ms | p99 {verdict} | {half['rejected']} rejected, {half['lost']} lost |")
check = rows.get("ratel_ledger_check")
if check:
    print(f"\nRatel's ledger after the run: {check['problems']} problems, {check['overruns']} overruns, "
          f"{check['open_reservations']} open reservations.")
