"""The one Excel export helper, safe from formula injection (CSV/formula injection, OWASP).

A text that starts with = + - @ or a tab/carriage return is what a spreadsheet takes for a formula:
openpyxl itself writes a str starting with "=" as a live formula, and Excel/LibreOffice turn the others
into one when the user edits the cell or the sheet goes through CSV. Every such text is written here as a
text cell (type "inlineStr", never "f") with the quote-prefix style (Excel's leading apostrophe), so a
member named `=HYPERLINK("http://x","y")` stays a name. Numbers, dates and other text are unchanged.

    return xlsx_response(sheet_title="特困人员台账", header=[...], rows=(... for a in applications),
                         filename=f"特困人员台账-{export_stamp()}.xlsx", ascii_name=f"tekun-{export_stamp()}.xlsx")

Large streamed exports (the bank payment roster) use `FORMULA_FIRST` and `text_cell` directly, on the
columns that can hold user-entered text only."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The first characters that make a spreadsheet read a text as a formula. The test in a hot loop is
# `value and value[0] in FORMULA_FIRST` (about 80 ns; the `value and` matters: "" is in every str).
FORMULA_FIRST = "=+-@\t\r"
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._-]+")


def formula_like(value: Any) -> bool:
    """True for a text a spreadsheet would take for a formula."""
    return isinstance(value, str) and bool(value) and value[0] in FORMULA_FIRST


def text_cell(ws, value: str) -> WriteOnlyCell:
    """A write-only cell of `ws` holding `value` as text: openpyxl types a str starting with "=" as a
    formula when the value is set, so the type is set back to string afterwards; the quote prefix keeps
    Excel and LibreOffice from re-reading it as a formula when the cell is edited."""
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def safe_cell(value: Any, ws) -> Any:
    """`value` unchanged, or — for a text a spreadsheet would take for a formula — a text cell of the
    write-only worksheet `ws` (a styled cell needs its worksheet to register the style)."""
    if isinstance(value, str) and value and value[0] in FORMULA_FIRST:
        return text_cell(ws, value)
    return value


def text_safe(cell):
    """A cell of an ordinary (not write-only) worksheet, its value already set: typed back to text with the
    quote prefix when the value is formula-like. Returns the cell."""
    value = cell.value
    if isinstance(value, str) and value and value[0] in FORMULA_FIRST:
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def safe_row(ws, values: Iterable[Any]) -> list[Any]:
    """One row for `ws.append()` with every formula-like text made a text cell."""
    return [text_cell(ws, v) if isinstance(v, str) and v and v[0] in FORMULA_FIRST else v for v in values]


def export_stamp() -> str:
    """The local time in an export's file name: 202612011530."""
    return timezone.localtime().strftime("%Y%m%d%H%M")


def content_disposition(filename: str, ascii_name: str) -> str:
    """An attachment header with the Chinese name (RFC 5987) and an ASCII fallback for old clients."""
    fallback = _UNSAFE_ASCII.sub("_", ascii_name).strip("_") or "export.xlsx"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def write_xlsx(output, *, sheet_title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write a one-sheet workbook (openpyxl write-only, rows streamed) into the binary file `output`;
    returns the number of data rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_title[:31])
    ws.append(safe_row(ws, header))
    count = 0
    for row in rows:
        ws.append(safe_row(ws, row))
        count += 1
    wb.save(output)
    return count


def xlsx_response(
    *,
    sheet_title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    filename: str,
    ascii_name: str,
) -> HttpResponse:
    """A one-sheet workbook of `header` and `rows` as a download named `filename` (Chinese, with the
    caller's export_stamp()), `ascii_name` for clients that cannot read the UTF-8 name."""
    buffer = io.BytesIO()
    write_xlsx(buffer, sheet_title=sheet_title, header=header, rows=rows)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition(filename, ascii_name)
    return response
