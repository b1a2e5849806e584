"""What footfall.events costs on disk: its parts merged into one with OPTIMIZE FINAL, then
the engine's own byte counts, compressed and not, per event and per column, extrapolated
to a billion events (the capacity table's storage figure).

Measured by bench/sink_throughput.py on the table its bulk insert filled, so the rows are
the demo's sessionised events exactly as the sink stores them.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table

from infra.clickhouse.backend import Backend
from schemas.tables import DATABASE

BILLION = 1_000_000_000
TOP_COLUMNS = 5


@dataclass
class ColumnSize:
    name: str
    compressed: int
    uncompressed: int


@dataclass
class Storage:
    """footfall.events' active parts after a final merge."""

    rows: int
    compressed: int  # column data, compressed
    uncompressed: int
    on_disk: int  # with marks, the primary index and checksums
    columns: list[ColumnSize]

    def per_event(self, attribute: str) -> float:
        return getattr(self, attribute) / self.rows


def measure(backend: Backend) -> Storage:
    backend.execute(f"OPTIMIZE TABLE {DATABASE}.events FINAL")
    where = f"database = '{DATABASE}' AND table = 'events'"
    [parts] = backend.query(
        "SELECT sum(rows) AS rows, sum(data_compressed_bytes) AS compressed, "
        "sum(data_uncompressed_bytes) AS uncompressed, sum(bytes_on_disk) AS on_disk "
        f"FROM system.parts WHERE {where} AND active"
    )
    columns = backend.query(
        "SELECT name, data_compressed_bytes AS compressed, data_uncompressed_bytes AS uncompressed "
        f"FROM system.columns WHERE {where} ORDER BY compressed DESC"
    )
    return Storage(
        int(parts["rows"]), int(parts["compressed"]), int(parts["uncompressed"]), int(parts["on_disk"]),
        [ColumnSize(c["name"], int(c["compressed"]), int(c["uncompressed"])) for c in columns],
    )


def storage_table(storage: Storage) -> Table:
    table = Table(title=f"footfall.events after OPTIMIZE FINAL, {storage.rows:,} demo events")
    for column in ("measure", "per event, bytes", "per billion events, GB"):
        table.add_column(column)
    for label, attribute in (("uncompressed", "uncompressed"), ("compressed", "compressed"),
                             ("on disk (with marks and index)", "on_disk")):
        per_event = storage.per_event(attribute)
        table.add_row(label, f"{per_event:,.1f}", f"{per_event * BILLION / 1e9:,.0f}")
    table.add_row("compression ratio", f"{storage.uncompressed / storage.compressed:.1f} ×", "")
    for column in storage.columns[:TOP_COLUMNS]:
        table.add_row(
            f"column {column.name} (of compressed: {column.compressed / storage.compressed:.0%})",
            f"{column.compressed / storage.rows:,.1f} (raw {column.uncompressed / storage.rows:,.1f})",
            f"{column.compressed / storage.rows:,.0f}",
        )
    return table
