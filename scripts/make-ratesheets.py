#!/usr/bin/env python3
"""Builds the shipped rate decks in ratesheets/ from real E.164 number ranges.

Usage: scripts/make-ratesheets.py [path/to/e164-prefixes.csv.gz]
(default: ../shared/data/e164-prefixes.csv.gz). The prices are made up but deterministic: each
one derives from a hash of its prefix, so rerunning the script reproduces the same files.
"""
import csv
import gzip
import hashlib
import io
import os
import sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "data", "e164-prefixes.csv.gz")
OUT = os.path.join(ROOT, "ratesheets")


def unit(text, salt=""):
    """A stable number in [0, 1) from a string."""
    digest = hashlib.sha256((salt + text).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def micros_text(micros):
    """Exact decimal text for an integer amount of micros (no floating point in the output)."""
    units, fraction = divmod(micros, 1_000_000)
    return f"{units}.{fraction:06d}".rstrip("0").rstrip(".") if fraction else f"{units}"


def price(prefix, low, high, step, salt):
    """A price in micros between low and high micros, a multiple of step micros."""
    span = (high - low) // step
    return low + int(unit(prefix, salt) * (span + 1)) * step


def write_csv(path, header, rows, compress=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode()
    if compress:
        with open(path, "wb") as raw:
            # mtime=0 keeps the file byte-identical across runs.
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as handle:
                handle.write(data)
    else:
        with open(path, "wb") as handle:
            handle.write(data)
    print(f"{os.path.relpath(path, ROOT)}: {len(rows)} rows")


def load():
    with gzip.open(SOURCE, "rt", newline="") as handle:
        return list(csv.DictReader(handle))


def mobile_blocks(rows):
    """Per country, the shortest prefixes under which every known range is mobile."""
    by_country = defaultdict(list)
    for row in rows:
        by_country[row["country_code"]].append(row)
    blocks = {}
    for code, members in by_country.items():
        chosen = []
        for length in range(len(code) + 1, len(code) + 4):
            kinds = defaultdict(set)
            for row in members:
                if len(row["prefix"]) >= length:
                    kinds[row["prefix"][:length]].add(row["kind"])
            for candidate, seen in sorted(kinds.items()):
                if seen == {"mobile"} and not any(candidate.startswith(c) for c in chosen):
                    chosen.append(candidate)
        blocks[code] = sorted(chosen)
    return blocks


def retail(rows):
    countries = [r for r in rows if r["kind"] == "country"]
    blocks = mobile_blocks(rows)
    entries = []  # (prefix, destination, peak micros, connect fee micros)
    for row in countries:
        code = row["prefix"]
        name = row["description"]
        fee = 50_000 if unit(code, "fee") < 0.1 else 0
        entries.append((code, name, price(code, 10_000, 300_000, 1_000, "retail"), fee))
        mobile = blocks.get(code, [])
        if 0 < len(mobile) <= 6:
            for prefix in mobile:
                entries.append((prefix, f"{name} - Mobile", price(prefix, 40_000, 600_000, 1_000, "retail"), fee))
    entries.sort()
    header = ["prefix", "destination", "rate", "connect_fee", "initial_increment", "increment"]

    def deck(percent):
        return [[p, d, micros_text(rate * percent // 100 // 100 * 100), micros_text(fee), 60, 60]
                for p, d, rate, fee in entries]

    write_csv(os.path.join(OUT, "retail", "peak.csv"), header, deck(100))
    write_csv(os.path.join(OUT, "retail", "night.csv"), header, deck(70))
    write_csv(os.path.join(OUT, "retail", "weekend.csv"), header, deck(60))
    write_csv(os.path.join(OUT, "retail", "holiday.csv"), header, deck(50))


def wholesale(rows):
    chosen = [r for r in rows if r["kind"] in ("country", "mobile")]
    geographic = [r for r in rows if r["kind"] == "geographic" and r["country_code"] in ("44", "49", "33", "39", "359")]
    chosen += geographic[:1500]
    chosen.sort(key=lambda r: r["prefix"])
    out = []
    for row in chosen:
        prefix = row["prefix"]
        sell = price(prefix, 2_000, 250_000, 10, "wholesale")
        buy = sell * (80 + int(unit(prefix, "margin") * 16)) // 100
        billing = (1, 1) if row["kind"] == "mobile" else (30, 6)
        out.append([prefix, row["description"], micros_text(sell), micros_text(buy), billing[0], billing[1]])
    write_csv(os.path.join(OUT, "wholesale", "wholesale.csv"), ["prefix", "destination", "rate", "buy_rate",
                                                                "initial_increment", "increment"], out)


def full(rows):
    out = []
    for row in rows:
        prefix = row["prefix"]
        out.append([prefix, row["description"], micros_text(price(prefix, 5_000, 400_000, 100, "full")), 1, 1])
    write_csv(os.path.join(OUT, "full", "full.csv.gz"), ["prefix", "destination", "rate", "initial_increment",
                                                         "increment"], out, compress=True)


def main():
    rows = load()
    retail(rows)
    wholesale(rows)
    full(rows)


if __name__ == "__main__":
    main()
