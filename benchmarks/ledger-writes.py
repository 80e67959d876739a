#!/usr/bin/env python3
"""Ratel's ledger writes from its metrics endpoint (the `ratel_ledger_write_duration_seconds`
histogram). With only the URL: prints the histogram's lines, a snapshot. With a snapshot on
standard input as well (`--since-stdin`): prints, as JSON, the writes since it and how many took
longer than 5, 25 and 100 ms: every reply of a group waits for its write, so a p99 above those
marks in the same phase is the disk's before anything else is looked at."""
import json
import sys
import urllib.request

NAME = "ratel_ledger_write_duration_seconds"


def histogram(text):
    """Cumulative counts by upper bound (seconds; +Inf as infinity), and the sum of seconds."""
    buckets, total = {}, 0.0
    for line in text.splitlines():
        if line.startswith(NAME + "_bucket{le=\""):
            bound = line.split("\"")[1]
            buckets[float("inf") if bound == "+Inf" else float(bound)] = int(float(line.rsplit(" ", 1)[1]))
        elif line.startswith(NAME + "_sum "):
            total = float(line.rsplit(" ", 1)[1])
    return buckets, total


def main():
    with urllib.request.urlopen(sys.argv[1], timeout=10) as response:
        now = response.read().decode()
    if "--since-stdin" not in sys.argv[2:]:
        print("\n".join(line for line in now.splitlines() if line.startswith(NAME)))
        return
    before, before_total = histogram(sys.stdin.read())
    after, after_total = histogram(now)
    if float("inf") not in after:
        sys.exit(f"ledger-writes: no {NAME} histogram at {sys.argv[1]}")

    def since(bound):
        # A bucket bound `ratel serve` no longer has would count every write as over it.
        if bound not in after:
            sys.exit(f"ledger-writes: {NAME} has no bucket at {bound} s (ratel's ServeCommand sets the bounds)")
        return after[bound] - before.get(bound, 0)

    writes = since(float("inf"))
    print(json.dumps({"writes": writes, "over_5ms": writes - since(0.005), "over_25ms": writes - since(0.025),
                      "over_100ms": writes - since(0.1), "seconds": round(after_total - before_total, 3)},
                     separators=(",", ":")))


main()
