"""Per-insert cost of the journaled store vs stock TinyDB, at growing table sizes.

Run: .venv/bin/python benchmarks/store_insert.py [--sizes 1000,10000,100000]
Both are measured in the same run on the same disk. Stock TinyDB (JSONStorage)
rewrites the whole file per insert; ours appends and fdatasyncs one journal line.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from tinydb import TinyDB

from gateway_core.store import JournaledDB, JournalStorage

DOC = {
    "id": "pay_0000",
    "amount": 125050,
    "currency": "INR",
    "status": "succeeded",
    "card": {"brand": "visa", "bin6": "411111", "last4": "1111"},
}


def per_insert_ms(db: TinyDB, size: int, samples: int) -> float:
    """Median ms of one insert into a table already holding `size` documents."""
    table = db.table("payments")
    table.insert_multiple(dict(DOC, n=i) for i in range(size))
    times = []
    for i in range(samples):
        start = time.perf_counter()
        table.insert(dict(DOC, n=size + i))
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    print("| documents in table | stock TinyDB (ms/insert) | journaled (ms/insert) |")
    print("|---:|---:|---:|")
    for size in map(int, args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            stock = TinyDB(Path(tmp) / "stock.json")
            stock_ms = per_insert_ms(stock, size, samples=5 if size >= 100_000 else 20)
            stock.close()
            ours = JournaledDB(Path(tmp), "ours", storage=JournalStorage)
            ours_ms = per_insert_ms(ours, size, samples=200)
            ours.close()
        print(f"| {size:,} | {stock_ms:.2f} | {ours_ms:.3f} |")


if __name__ == "__main__":
    main()
