"""One writer per data dir, any number of readers, while payments are being taken.

A subprocess takes sales in a loop (the writer). Meanwhile a second writer (`paygate
charge`) is refused with a message naming the writer's pid, and readers (`paygate audit
verify`, a read-only Runtime) work and see every payment acknowledged before they opened.
On both backends: with the records in PostgreSQL the data dir keeps the embedded banks,
whose store has the one writer.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from support import VISA, gateway_settings, open_runtime

from bank_sim.testcards import EXPIRY

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from support import VISA, charge, gateway_settings, open_runtime

    async def main():
        rt = open_runtime(gateway_settings(Path(sys.argv[1]), 10.0))
        while True:
            payment = await rt.gateway.charge(charge(VISA, 1_00))
            print(payment.id, flush=True)

    asyncio.run(main())
    """
)


def test_a_second_writer_is_refused_and_readers_work_during_writes(
    tmp_path: Path, cli, monkeypatch, database_url: str | None
) -> None:
    data_dir = tmp_path / "data"
    if database_url:
        monkeypatch.setenv("PAYGATE_DATABASE_URL", database_url)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(data_dir), str(Path(__file__).parents[1])],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        acked = [writer.stdout.readline().strip() for _ in range(3)]
        refused = cli(
            "charge", "--data-dir", data_dir, "--amount", "10", "--card", VISA.pan,
            "--exp", EXPIRY, "--cvv", VISA.cvv,
        )  # fmt: skip
        assert refused.code == 1
        assert "in use by another paygate process" in refused.err
        assert f"pid {writer.pid}" in refused.err
        for _ in range(3):  # readers, each opened while the writer goes on
            acked.append(writer.stdout.readline().strip())
            verified = cli("audit", "verify", "--data-dir", data_dir)
            assert verified.code == 0, verified.err
            assert "audit log intact" in verified.out
            with open_runtime(gateway_settings(data_dir, 10.0), read_only=True) as reader:
                days = reader.records.days()
                seen = {p["id"] for day in days for p in reader.records.payments.for_day(day)}
            assert set(acked) <= seen
        assert writer.poll() is None, "the writer stopped while readers read"
    finally:
        writer.kill()
        writer.wait()
