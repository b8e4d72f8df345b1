"""The one Excel export helper: every text cell that a spreadsheet would read as a formula (= + - @, a tab
or a carriage return first) is written as text, never as a formula, so a member named
`=HYPERLINK(…)` stays a name."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any, ws=None) -> Any:
    """`value`, or — for text a spreadsheet would take as a formula — a write-only cell typed as text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    return value


def xlsx_response(
    *, sheet_title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str, ascii_name: str
) -> HttpResponse:
    """A one-sheet workbook (openpyxl write-only) of `header` and `rows` as a download named `filename`."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_title[:31])
    ws.append(list(header))
    for row in rows:
        ws.append([safe_cell(v, ws) for v in row])
    buffer = io.BytesIO()
    wb.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    return response
