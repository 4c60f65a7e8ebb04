"""Rows drawn before the table measures them are drawn again at the measured widths
(pos_app.widgets.table: DataTable caches what it drew by update count, not by width)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from pos_app.widgets.table import MeasuredTable


class OneTable(App):
    CSS = "DataTable { height: 6; }"

    def compose(self) -> ComposeResult:
        yield MeasuredTable()


def lines(table: MeasuredTable) -> list[str]:
    return [table.render_line(y).text.rstrip() for y in range(4)]


async def test_rows_drawn_before_they_are_measured_are_drawn_again_at_the_new_width() -> None:
    app = OneTable()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(MeasuredTable)
        table.add_column("Seq", key="seq")
        table.add_column("Time", key="time")
        table.add_rows((str(n), "10:00") for n in range(20))
        await pilot.pause()
        table.clear()  # refilled, a wider cell among the rows, as the audit log marks one
        table.add_rows(("⚠ 12" if n == 10 else str(n), "10:00") for n in range(20))
        lines(table)  # the screen draws the table before it is idle and measures the rows
        await pilot.pause()
        assert lines(table) == [" Seq   Time", " 0     10:00", " 1     10:00", " 2     10:00"]
