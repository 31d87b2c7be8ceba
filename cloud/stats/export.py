"""The figures as tables: CSV and XLSX (openpyxl) with the same columns as the API's rows.
A hidden value (a small count, a complement that keeps one from being worked out, and what
rests on either) is written ``..``, as Statistics Finland marks confidential cells, the same
for every kind so that the mark tells nothing; a value that cannot be computed is empty."""
from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from cloud.stats.figures import FAMILIES

HIDDEN = ".."


def columns(family: str, by: Sequence[str]) -> list[str]:
    """The columns of a family's table grouped ``by``."""
    return ["period", *by, *FAMILIES[family].fields]


def cells(row: Mapping, cols: Sequence[str]) -> list:
    """One row's values in column order, hidden ones as ``..``."""
    hidden = set(row.get("suppressed", ()))
    return [HIDDEN if c in hidden else row.get(c) for c in cols]


def csv_text(family: str, by: Sequence[str], rows: Sequence[Mapping]) -> str:
    """The table as CSV (comma separated, a header row)."""
    out, cols = io.StringIO(), columns(family, by)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(cols)
    writer.writerows(["" if v is None else v for v in cells(r, cols)] for r in rows)
    return out.getvalue()


def xlsx_bytes(tables: Mapping[str, tuple[Sequence[str], Sequence[Sequence]]]) -> bytes:
    """A workbook of one sheet per table: ``{sheet: (header, rows of cells)}``."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for name, (header, rows) in tables.items():
        sheet = book.create_sheet(name[:31])
        sheet.append(list(header))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(list(row))
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def family_table(family: str, by: Sequence[str], rows: Sequence[Mapping]
                 ) -> tuple[list[str], list[list]]:
    """A family's rows as (header, rows of cells) for ``xlsx_bytes``."""
    cols = columns(family, by)
    return cols, [cells(r, cols) for r in rows]
