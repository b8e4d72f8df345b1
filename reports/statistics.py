"""民政统计月报: one workbook, one sheet per registered statistics section, laid out as the official forms are.

Bureau apps register their sections from their own `reports` module (AppConfig.ready imports it):

    from reports.statistics import Col, StatisticsTable, register_statistics_section

    def build_gaoling(ctx):                      # ctx: StatisticsContext (user, month, unit name, scope)
        figures = selectors.gaoling_figures(ctx.user, ctx.month)    # set-based aggregate queries, scoped
        table = StatisticsTable(title="高龄津贴发放情况月报表", unit="人、元",
                                columns=[Col("享受人数（人）", children=[Col("合计", "n"), ...]), ...])
        table.add_row("total", "合计", {...})
        table.check_row_sums("n", ["n_80", "n_90", "n_100"])    # 合计 = the sum of its parts
        return table

    register_statistics_section("gaoling", "高龄津贴", build_gaoling, order=50)

A section describes its table declaratively — title, unit, a tree of columns (the merged multi-level
header is derived from it), data rows and the total checks. This module lays the tables out, checks every
declared total against the sum of its parts BEFORE anything is written (a mismatch fails the job naming
the sheet and cell), and only then formats the workbook with openpyxl."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django import forms
from django.conf import settings
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from core.benefits.months import add_months, month_start, parse_month
from core.exports import text_safe
from core.registry.querysets import user_scope_prefix

from .registry import BuildContext, ReportError, ReportParamsForm, ReportResult

INT_FORMAT = "#,##0"
MONEY_FORMAT = "#,##0.00"
# Rows above the header: the title, then the 填报单位 / 报告期 / 计量单位 line.
TITLE_ROW = 1
INFO_ROW = 2
HEADER_FIRST_ROW = 3
NOT_APPLICABLE = "—"
# Excel's limit on sheet names, and the characters it refuses in them.
SHEET_NAME_MAX = 31
SHEET_NAME_FORBIDDEN = set("[]:*?/\\")


def cn_month(value: datetime.date) -> str:
    return f"{value.year}年{value.month}月"


def cn_date(value: datetime.date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


# --- the declarative table -----------------------------------------------------------------------------


@dataclass
class Col:
    """A header column. A leaf has a `key` (the data rows' values are looked up by it); a group has
    `children` and spans them. `kind` picks the number format: "int", "money" or "text"."""

    label: str
    key: str = ""
    children: list[Col] = field(default_factory=list)
    kind: str = "int"
    width: float | None = None

    def leaves(self) -> list[Col]:
        if not self.children:
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]

    def depth(self) -> int:
        return 1 + max((child.depth() for child in self.children), default=0)


@dataclass
class StatRow:
    key: str
    label: str
    values: dict[str, Any]
    bold: bool = False


@dataclass(frozen=True)
class TotalCheck:
    """The cell (row key, column key) must equal the sum of the `parts` cells."""

    total: tuple[str, str]
    parts: tuple[tuple[str, str], ...]


@dataclass
class StatisticsTable:
    title: str
    unit: str
    columns: list[Col]
    stub_label: str = "项目"
    rows: list[StatRow] = field(default_factory=list)
    checks: list[TotalCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add_row(self, key: str, label: str, values: dict[str, Any], *, bold: bool = False) -> StatRow:
        row = StatRow(key, label, values, bold)
        self.rows.append(row)
        return row

    def leaf_columns(self) -> list[Col]:
        return [leaf for col in self.columns for leaf in col.leaves()]

    def check(self, total: tuple[str, str], parts: Iterable[tuple[str, str]]) -> None:
        self.checks.append(TotalCheck(total, tuple(parts)))

    def check_row_sums(
        self, total_key: str, part_keys: Iterable[str], rows: Iterable[str] | None = None
    ) -> None:
        """In each row (all rows by default), column `total_key` = the sum of columns `part_keys`."""
        part_keys = list(part_keys)
        for row_key in rows if rows is not None else [r.key for r in self.rows]:
            self.check((row_key, total_key), [(row_key, k) for k in part_keys])

    def check_column_sums(
        self, total_row: str, part_rows: Iterable[str], columns: Iterable[str] | None = None
    ) -> None:
        """In each column (every int/money leaf by default), row `total_row` = the sum of `part_rows`."""
        part_rows = list(part_rows)
        keys = columns if columns is not None else [c.key for c in self.leaf_columns() if c.kind != "text"]
        for key in keys:
            self.check((total_row, key), [(r, key) for r in part_rows])


# --- registry -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatisticsContext:
    """What a section builder gets: the requester (scope every query with `visible_to(user)`), the report
    month (first day), the scope prefix ("" = everything) and the 填报单位 name."""

    user: Any
    month: datetime.date
    scope_prefix: str
    unit_name: str
    # What sections of one workbook share (a figure read once for several sheets), by a key of their own.
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def year_start(self) -> datetime.date:
        return self.month.replace(month=1)

    @property
    def previous_month(self) -> datetime.date:
        return add_months(self.month, -1)


@dataclass(frozen=True)
class StatisticsSection:
    code: str
    title: str  # the sheet's name
    builder: Callable[[StatisticsContext], StatisticsTable]
    order: int = 100


_SECTIONS: dict[str, StatisticsSection] = {}


def register_statistics_section(
    code: str, title: str, builder: Callable[[StatisticsContext], StatisticsTable], order: int = 100
) -> StatisticsSection:
    """Register a sheet of the monthly report; the same code again replaces it (app reloads in tests)."""
    if not title or len(title) > SHEET_NAME_MAX or SHEET_NAME_FORBIDDEN & set(title):
        raise ValueError(f"invalid sheet name for statistics section {code!r}: {title!r}")
    section = StatisticsSection(code, title, builder, order)
    _SECTIONS[code] = section
    return section


def unregister_statistics_section(code: str) -> None:
    _SECTIONS.pop(code, None)


def statistics_sections() -> list[StatisticsSection]:
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.code))


# --- layout and checks ----------------------------------------------------------------------------------


@dataclass
class HeaderCell:
    text: str
    row: int  # sheet row (1-based)
    col: int  # sheet column (1-based)
    rowspan: int = 1
    colspan: int = 1


@dataclass
class LaidOutTable:
    sheet_name: str
    table: StatisticsTable
    leaves: list[Col]
    header: list[HeaderCell]
    header_rows: int
    first_data_row: int
    column_of: dict[str, int]
    row_of: dict[str, int]

    @property
    def width(self) -> int:
        return 1 + len(self.leaves)

    def address(self, row_key: str, col_key: str) -> str:
        return f"{get_column_letter(self.column_of[col_key])}{self.row_of[row_key]}"

    def value(self, row_key: str, col_key: str) -> Any:
        row = next(r for r in self.table.rows if r.key == row_key)
        return row.values.get(col_key)


def layout(sheet_name: str, table: StatisticsTable) -> LaidOutTable:
    """Place the header tree and the rows on the sheet: the stub column A spans every header row; a group
    spans its leaves; a leaf reaches down to the last header row."""
    depth = max((c.depth() for c in table.columns), default=1)
    header = [HeaderCell(table.stub_label, HEADER_FIRST_ROW, 1, rowspan=depth)]
    column_of: dict[str, int] = {}

    def place(col: Col, level: int, first_col: int) -> int:
        leaves = col.leaves()
        row = HEADER_FIRST_ROW + level
        if col.children:
            header.append(HeaderCell(col.label, row, first_col, colspan=len(leaves)))
            position = first_col
            for child in col.children:
                position = place(child, level + 1, position)
        else:
            if not col.key or col.key in column_of:
                raise ValueError(f"statistics column {col.label!r} needs a unique key")
            header.append(HeaderCell(col.label, row, first_col, rowspan=depth - level))
            column_of[col.key] = first_col
        return first_col + len(leaves)

    position = 2
    for col in table.columns:
        position = place(col, 0, position)
    first_data_row = HEADER_FIRST_ROW + depth
    row_of = {}
    for i, row in enumerate(table.rows):
        if row.key in row_of:
            raise ValueError(f"statistics row key {row.key!r} is used twice")
        row_of[row.key] = first_data_row + i
    return LaidOutTable(
        sheet_name=sheet_name,
        table=table,
        leaves=table.leaf_columns(),
        header=header,
        header_rows=depth,
        first_data_row=first_data_row,
        column_of=column_of,
        row_of=row_of,
    )


def _number(value: Any) -> Decimal:
    if value is None or value == NOT_APPLICABLE:
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        raise TypeError(value)
    return Decimal(str(value))


def _show(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def verify_totals(laid: LaidOutTable) -> None:
    """Every declared total equals the sum of its parts, to the fen; raise ReportError naming the cell."""
    for check in laid.table.checks:
        where = f"{laid.sheet_name}!{laid.address(*check.total)}"
        try:
            total = _number(laid.value(*check.total))
            parts = sum((_number(laid.value(*p)) for p in check.parts), Decimal(0))
        except TypeError:
            raise ReportError(f"{where} 合计或其分项不是数值，无法核对") from None
        if total != parts:
            raise ReportError(f"{where} 合计 {_show(total)} ≠ 分项之和 {_show(parts)}")


# --- formatting -------------------------------------------------------------------------------------------

_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _put(sheet: Worksheet, row: int, column: int, value):
    """sheet.cell(row, column, value) with a formula-like text (a region or benefit name entered in the
    admin) kept as text (core.exports)."""
    return text_safe(sheet.cell(row, column, value))


def write_table(
    sheet: Worksheet, laid: LaidOutTable, *, unit_name: str, month: datetime.date, preparer: str = ""
) -> None:
    table = laid.table
    width = laid.width
    last_col = get_column_letter(width)

    sheet.merge_cells(f"A{TITLE_ROW}:{last_col}{TITLE_ROW}")
    title = _put(sheet, TITLE_ROW, 1, table.title)
    title.font = Font(bold=True, size=16)
    title.alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[TITLE_ROW].height = 30

    # 填报单位 at the left, 报告期 in the middle, 计量单位 at the right: three cells of their own.
    middle = max(2, width // 2)
    _put(sheet, INFO_ROW, 1, f"填报单位：{unit_name}")
    _put(sheet, INFO_ROW, middle, f"报告期：{cn_month(month)}").alignment = Alignment(horizontal="center")
    unit_cell = _put(sheet, INFO_ROW, width, f"计量单位：{table.unit}")
    unit_cell.alignment = Alignment(horizontal="right")

    header_fill = PatternFill("solid", fgColor="F2F2F2")
    for cell in laid.header:
        for r in range(cell.row, cell.row + cell.rowspan):
            for c in range(cell.col, cell.col + cell.colspan):
                target = sheet.cell(r, c)
                target.border = _BORDER
                target.fill = header_fill
        if cell.rowspan > 1 or cell.colspan > 1:
            sheet.merge_cells(
                start_row=cell.row,
                start_column=cell.col,
                end_row=cell.row + cell.rowspan - 1,
                end_column=cell.col + cell.colspan - 1,
            )
        head = _put(sheet, cell.row, cell.col, cell.text)
        head.font = Font(bold=True)
        head.alignment = _CENTER

    formats = {"int": INT_FORMAT, "money": MONEY_FORMAT}
    for row in table.rows:
        r = laid.row_of[row.key]
        stub = _put(sheet, r, 1, row.label)
        stub.border = _BORDER
        stub.font = Font(bold=row.bold)
        for leaf in laid.leaves:
            value = row.values.get(leaf.key)
            cell = _put(sheet, r, laid.column_of[leaf.key], NOT_APPLICABLE if value is None else value)
            cell.border = _BORDER
            if row.bold:
                cell.font = Font(bold=True)
            if value is None or isinstance(value, str):
                cell.alignment = Alignment(horizontal="center")
            elif leaf.kind in formats:
                cell.number_format = formats[leaf.kind]

    row = laid.first_data_row + len(table.rows)
    for note in table.notes:
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        cell = _put(sheet, row, 1, note)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.row_dimensions[row].height = 15 * (1 + len(note) // 90)
        row += 1

    # Signature lines of the official form: 单位负责人 / 填报人 / 填报日期.
    row += 1
    thirds = [1, max(2, width // 3 + 1), max(3, 2 * width // 3 + 1)]
    _put(sheet, row, thirds[0], "单位负责人：")
    _put(sheet, row, thirds[1], f"填报人：{preparer}")
    _put(sheet, row, thirds[2], f"填报日期：{cn_date(timezone.localdate())}")

    sheet.column_dimensions["A"].width = 14
    for leaf in laid.leaves:
        letter = get_column_letter(laid.column_of[leaf.key])
        sheet.column_dimensions[letter].width = leaf.width or (13 if leaf.kind == "money" else 9)
    for r in range(HEADER_FIRST_ROW, laid.first_data_row):
        sheet.row_dimensions[r].height = 30
    sheet.freeze_panes = f"B{laid.first_data_row}"
    sheet.print_title_rows = f"1:{laid.first_data_row - 1}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_options.horizontalCentered = True


def write_statistics_workbook(
    tables: list[LaidOutTable], output: IO[bytes], *, unit_name: str, month: datetime.date, preparer: str = ""
) -> None:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for laid in tables:
        sheet = workbook.create_sheet(laid.sheet_name)
        write_table(sheet, laid, unit_name=unit_name, month=month, preparer=preparer)
    workbook.save(output)


# --- the report type ------------------------------------------------------------------------------------


class MonthInput(forms.TextInput):
    input_type = "month"


class MonthlyStatisticsForm(ReportParamsForm):
    month = forms.CharField(
        label="报告期（月份）",
        widget=MonthInput,
        help_text="统计该月的在保、新增、退出人数和当月及本年累计支出，如 2026-11。",
        error_messages={"required": "请选择报告期"},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["month"].initial = timezone.localdate().strftime("%Y-%m")

    def clean_month(self) -> str:
        try:
            month = parse_month(self.cleaned_data["month"])
        except ValueError:
            raise forms.ValidationError("报告期格式应为“年-月”，如 2026-11") from None
        if month > month_start(timezone.localdate()):
            raise forms.ValidationError("报告期不能晚于本月")
        if month.year < 2000:
            raise forms.ValidationError("报告期不正确")
        return month.strftime("%Y-%m")

    def describe(self) -> str:
        return cn_month(parse_month(self.cleaned_data["month"]))


def unit_name_for(user) -> str:
    """填报单位: the requester's region (a street user reports for the street); the bureau for all."""
    region = getattr(user, "region", None)
    if region is None:
        return settings.BUREAU_NAME
    return region.full_name


def build_statistics(user, month: datetime.date, progress=None) -> list[LaidOutTable]:
    """Build, lay out and check every registered section. Raises ReportError on a failed total check."""
    prefix = user_scope_prefix(user)
    if prefix is None:
        raise ReportError("您的账号未设置数据范围")
    sections = statistics_sections()
    if not sections:
        raise ReportError("尚未登记任何统计表，无法生成统计月报")
    context = StatisticsContext(user=user, month=month, scope_prefix=prefix, unit_name=unit_name_for(user))
    laid_out = []
    for i, section in enumerate(sections):
        if progress:
            progress(5 + int(80 * i / len(sections)), f"正在统计：{section.title}")
        laid_out.append(layout(section.title, section.builder(context)))
    if progress:
        progress(88, "正在核对合计数")
    for laid in laid_out:
        verify_totals(laid)
    return laid_out


def build_monthly_statistics(ctx: BuildContext) -> ReportResult:
    try:
        month = parse_month(str(ctx.params.get("month", "")))
    except ValueError:
        raise ReportError("报告期参数无效") from None
    unit_name = unit_name_for(ctx.user)
    tables = build_statistics(ctx.user, month, ctx.progress)
    ctx.progress(92, "正在写入表格")
    preparer = getattr(ctx.user, "display_name", "") or ctx.user.get_username()
    write_statistics_workbook(tables, ctx.output, unit_name=unit_name, month=month, preparer=preparer)
    return ReportResult(filename=f"民政统计月报_{cn_month(month)}_{unit_name}.xlsx", record_count=len(tables))
