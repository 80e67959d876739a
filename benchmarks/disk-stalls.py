#!/usr/bin/env python3
"""The block device's own stalls while a phase runs: polls the kernel's counters for the device
holding PATH (/sys/dev/block/MAJOR:MINOR/stat) every 5 ms for SECONDS and prints, as JSON, how
often and how long the device held requests without completing any. A durable server's replies
wait for its fsyncs, so a stall there is in its latency whatever it does; Ratel's own timing of
its writes cannot tell a device that stopped from a server that queued too much, this can.

Usage: disk-stalls.py PATH SECONDS"""
import json
import os
import sys
import time

INTERVAL = 0.005


def stat_file(path):
    device = os.stat(path).st_dev
    return f"/sys/dev/block/{os.major(device)}:{os.minor(device)}/stat"


def completed_and_in_flight(fields):
    """Requests completed so far (reads, writes, and where the kernel counts them, discards and
    flushes), and requests in flight now."""
    done = fields[0] + fields[4]
    if len(fields) >= 15:
        done += fields[11]
    if len(fields) >= 17:
        done += fields[15]
    return done, fields[8]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path, seconds = stat_file(sys.argv[1]), float(sys.argv[2])
    # A data directory on tmpfs or overlayfs has no block device: the phase runs unwatched rather
    # than the run failing.
    if not os.path.exists(path):
        time.sleep(seconds)
        print(json.dumps({"unavailable": f"{sys.argv[1]} is on no block device ({path} does not exist)"}))
        return
    stalls = []
    # When the device last completed a request or sat idle, and whether it has held one since.
    since, stalled = None, False
    last_done = None
    samples = 0
    end = time.monotonic() + seconds
    with open(path) as source:
        while (now := time.monotonic()) < end:
            source.seek(0)
            done, in_flight = completed_and_in_flight([int(field) for field in source.read().split()])
            samples += 1
            if done == last_done and in_flight > 0:
                stalled = True
            else:
                if stalled:
                    stalls.append(now - since)
                since, stalled = now, False
            last_done = done
            time.sleep(INTERVAL)
    if stalled:
        stalls.append(time.monotonic() - since)
    print(json.dumps({"samples": samples, "interval_ms": INTERVAL * 1000,
                      "over_25ms": sum(1 for s in stalls if s > 0.025), "over_100ms": sum(1 for s in stalls if s > 0.1),
                      "longest_ms": round(max(stalls, default=0) * 1000, 1)}, separators=(",", ":")))


main()
