"""How `db/` here was made: this script, run with the store of commit 21c7f20 (one
journal per database, before the shared write-ahead log):

    git archive 21c7f20 gateway_core | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old .venv/bin/python tests/unit/old_layout/made_by.py /tmp/out

It ends as a crash would: nothing is compacted at the end.
"""

import os
import sys
from datetime import date
from pathlib import Path

from gateway_core.store import DataStore

out = Path(sys.argv[1])
A, B, C = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
store = DataStore(out)
for i in range(30):  # day A: clean, its snapshot's n (30) above main's
    store.day(A).table("payments").insert({"id": f"a{i}", "amount": 100 + i})
store.day(A).journal.compact()
store.main.table("tokens").insert({"id": "tok1"})
store.main.journal.compact()
store.main.table("tokens").insert({"id": "tok2"})  # main: snapshot + journal
store.day(B).table("payments").insert({"id": "b0"})
store.day(B).journal.compact()
store.day(B).table("payments").insert({"id": "b1"})  # day B: snapshot + journal
store.day(B).table("payments").update({"amount": 5}, doc_ids=[1])
store.day(C).table("payments").insert({"id": "c0"})  # day C: journal only
for db in store._open_dbs():
    if db.journal._fd is not None:
        os.close(db.journal._fd)  # a crash: nothing compacted
        db.journal._fd = None
os._exit(0)
