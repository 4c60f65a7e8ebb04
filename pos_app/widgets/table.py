"""`MeasuredTable`: a DataTable whose rows are drawn at their columns' widths.

DataTable measures the rows added to it later, when it is idle, and caches the cells and
lines it draws under its update count, not under their widths. When the screen drew the
table between a refill and that measuring (a reflow from any widget may come first), the
cells then in view kept the old, narrower widths, and kept them until something else
changed the table: the header and the rows in view cut ("⚠ 1" for "⚠ 12") above rows
drawn later at the new widths. A `MeasuredTable` counts new widths as a change of the
table, so everything is drawn again at the measured widths.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.widgets import DataTable
from textual.widgets.data_table import RowKey


class MeasuredTable(DataTable):
    """A DataTable that draws its cells again when its rows are measured wider or narrower."""

    _drawn_widths: list[int] | None = None

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        super()._update_dimensions(new_rows)
        widths = [column.get_render_width(self) for column in self.ordered_columns]
        if widths != self._drawn_widths:
            self._drawn_widths = widths
            self._update_count += 1  # in the key of every cell and line DataTable caches
            self.refresh()
