"""花名册: the payment roster of one payment run for the bank, the whole district or one street.

Two halves, kept apart: `roster_lines()` gathers the lines in ONE query (ordered by region code, streamed
in chunks) and `write_roster_xlsx()` formats them with openpyxl in write-only mode, so a 150,000-line
roster never sits in memory as a workbook. The roster carries full ID and bank numbers (the bank needs
them), so every download is logged."""

from __future__ import annotations

import datetime
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from copy import copy
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from typing import IO

from django import forms
from django.conf import settings
from django.db import connections, transaction
from django.db.models import Case, CharField, F, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, NullIf
from lxml.etree import Element, SubElement
from openpyxl import LXML, Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from core.benefits.models import PaymentLine, PaymentRun, Standard
from core.exports import FORMULA_FIRST, safe_cell, text_safe
from core.facilities.models import Facility
from core.registry.choices import AreaType, RegionLevel
from core.registry.models import Region
from core.registry.querysets import user_scope_prefix

from .registry import BuildContext, ReportError, ReportParamsForm, ReportResult

HEADERS = [
    "乡镇（街道）",
    "社区（村）",
    "户主姓名",
    "身份证号码",
    "救助类别",
    "保障人数",
    "基本金额",
    "分类施保金额",
    "其他金额",
    "合计金额",
    "发放月份",
    "开户银行",
    "银行账号",
    "代领人",
    "变动标志",
]
WIDTHS = [16, 18, 10, 21, 20, 9, 12, 13, 11, 12, 11, 18, 24, 10, 16]
MONEY_FORMAT = "#,##0.00"  # amounts in 元, to the fen
MONEY_COLUMNS = range(6, 10)  # 0-based: 基本金额 … 合计金额
CHUNK_SIZE = 5000
# The reader thread fetches smaller chunks (the first one reaches the writer sooner) and holds at most
# PREFETCH_CHUNKS of them ahead of the writer, so memory stays bounded whatever the number of lines.
PREFETCH_CHUNK_SIZE = 2000
PREFETCH_CHUNKS = 8
PROGRESS_EVERY = 2000

# The 银行账号 cell of a line paid to an institution (特困 集中供养) that has not registered its account yet:
# said in words, never a blank cell the bank would pay nothing against.
PAYEE_WITHOUT_ACCOUNT = "（供养机构未登记账号）"

CHANGE_LABELS = dict(PaymentLine.Change.choices) | {"": ""}
AREA_LABELS = dict(AreaType.choices)


def _street_code(community_code: str) -> str:
    return community_code[:9] + "000"


def _cn_month(value: datetime.date) -> str:
    return f"{value.year}年{value.month}月"


# --- parameters ------------------------------------------------------------------------------------


class PaymentRosterForm(ReportParamsForm):
    run = forms.ModelChoiceField(
        label="发放批次",
        queryset=PaymentRun.objects.select_related("benefit_type").order_by("-month", "benefit_type"),
        empty_label="请选择发放批次",
        error_messages={"required": "请选择发放批次", "invalid_choice": "所选发放批次不存在"},
    )
    street = forms.ChoiceField(label="范围", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["street"].choices = [("", self._whole_scope_label()), *streets_in_scope(user)]
        self.fields["street"].error_messages["invalid_choice"] = "所选街道（乡镇）不在您的数据范围内"

    def _whole_scope_label(self) -> str:
        prefix = user_scope_prefix(self.user) or ""
        return "全区" if len(prefix) <= 6 else "本街道（乡镇）全部"

    def describe(self) -> str:
        run = self.cleaned_data["run"]
        street = self.cleaned_data.get("street")
        scope = dict(self.fields["street"].choices).get(street, "") if street else self._whole_scope_label()
        return f"{run.benefit_type.name} {_cn_month(run.month)} · {scope}"


def streets_in_scope(user) -> list[tuple[str, str]]:
    """The streets/towns (12-digit codes) a user may choose: those inside the user's scope."""
    prefix = user_scope_prefix(user)
    if prefix is None:
        return []
    streets = Region.objects.filter(level=RegionLevel.STREET, is_active=True)
    if len(prefix) > 9:  # a community user: only the street the community belongs to
        streets = streets.filter(code=_street_code(prefix))
    elif prefix:
        streets = streets.filter(code__startswith=prefix)
    return list(streets.order_by("code").values_list("code", "name"))


# --- gathering ---------------------------------------------------------------------------------------

ROW_FIELDS = (
    "region_code",
    "recipient_name",
    "recipient_id_number",
    "area_type",
    "covered_persons",
    "base_amount",
    "increment_amount",
    "other_amount",
    "amount",
    "bank_name",
    "bank_account",
    "account_holder",
    "line_type",
    "for_month",
    "change",
    "payee_facility_id",
)


def _lines_in_scope(user, run: PaymentRun, street_code: str = "") -> QuerySet:
    lines = PaymentLine.objects.visible_to(user).filter(run=run)
    if street_code:
        lines = lines.filter(region_code__startswith=street_code[:9])
    return lines


PAYEE_FACILITY_ID = Cast(KeyTextTransform("payee_facility", "entitlement__params"), IntegerField())


def _payee_facility(field: str) -> Subquery:
    """`field` of the facility the line's entitlement names as payee (params "payee_facility"). A correlated
    subquery in the roster's one query: PostgreSQL runs it (a primary-key probe) only for the lines whose
    CASE branch asks for it — the few 集中供养 lines — and it adds no query whatever the number of lines."""
    facility_id = Cast(KeyTextTransform("payee_facility", OuterRef("entitlement__params")), IntegerField())
    return Subquery(Facility.objects.filter(pk=facility_id).values(field)[:1])


def _payee_or_household(field: str, household_value):
    """A line's bank detail: the payee facility's when the entitlement names one (特困 集中供养: paid to the
    institution's own account), nothing for another named payee (its account is kept by its finance), else
    the household's. The household's account is never used for a line with a payee."""
    return Case(
        When(entitlement__params__has_key="payee_facility", then=_payee_facility(field)),
        When(entitlement__params__has_key="payee", then=Value(None)),
        default=household_value,
    )


def roster_queryset(user, run: PaymentRun, street_code: str = "") -> QuerySet:
    """The run's lines in the user's scope (and the chosen street), as tuples in ROW_FIELDS order.

    A person-level entitlement (残疾人补贴, 高龄津贴 …) pays that person: their name and ID stand in the
    户主 columns. The bank account is the household's (the person's household when the line has none), or
    the payee facility's for a line paid to an institution (`payee_facility_id` then names it)."""
    return (
        _lines_in_scope(user, run, street_code)
        .annotate(
            recipient_name=Coalesce("person__name", "household__head__name"),
            recipient_id_number=Coalesce("person__id_number", "household__head__id_number"),
            area_type=F("entitlement__area_type"),
            # A payee named by the entitlement (特困 集中供养: the institution, params "payee" and
            # "payee_facility") replaces the household's account: the line is paid to the institution's
            # registered account, never into the household's.
            bank_name=_payee_or_household(
                "bank_name", Coalesce("household__bank_name", "person__household__bank_name")
            ),
            bank_account=_payee_or_household(
                "bank_account", Coalesce("household__bank_account", "person__household__bank_account")
            ),
            # The institution's 账户名称, or the payee's name as the decision recorded it until one is given.
            account_holder=Case(
                When(
                    entitlement__params__has_key="payee",
                    then=Coalesce(
                        NullIf(_payee_facility("account_name"), Value("")),
                        KeyTextTransform("payee", "entitlement__params"),
                    ),
                ),
                default=Coalesce("household__account_holder", "person__household__account_holder"),
                output_field=CharField(),
            ),
            payee_facility_id=Case(
                When(entitlement__params__has_key="payee_facility", then=PAYEE_FACILITY_ID),
                default=Value(None),
                output_field=IntegerField(),
            ),
        )
        .order_by("region_code", "id")
        .values_list(*ROW_FIELDS)
    )


@dataclass
class RosterData:
    run: PaymentRun
    title: str
    scope_label: str
    whole_district: bool
    line_count: int
    region_names: dict[str, str]
    category_by_area: dict[str, str]
    rows: Iterable[tuple]


def roster_lines(user, run: PaymentRun, street_code: str = "") -> RosterData:
    """Everything the roster shows, in a constant number of queries whatever the number of lines."""
    prefix = user_scope_prefix(user)
    if prefix is None:
        raise ReportError("您的账号未设置数据范围")
    queryset = roster_queryset(user, run, street_code)
    # Counted without the roster's joins: they are all to-one (the entitlement is a required foreign
    # key), so they never change the number of lines, and counting through them costs a quarter second.
    line_count = _lines_in_scope(user, run, street_code).count()
    scope = street_code[:9] if street_code else prefix
    region_names = dict(
        Region.objects.filter(
            code__startswith=scope[:9] if scope else "", level__in=[RegionLevel.STREET, RegionLevel.COMMUNITY]
        ).values_list("code", "name")
    )
    if street_code:
        scope_label = region_names.get(street_code, street_code)
    elif len(prefix) > 6:
        scope_label = user.region.name
    else:
        scope_label = "全区"
    by_area = Standard.objects.filter(benefit_type_id=run.benefit_type_id).exclude(area_type="").exists()
    name = run.benefit_type.name
    category_by_area = {
        area: f"{name}（{label}）" if by_area else name for area, label in [*AREA_LABELS.items(), ("", "")]
    }
    return RosterData(
        run=run,
        # A run's title already ends in 发放 ("最低生活保障2026年12月发放"): not "…发放发放花名册".
        title=f"{settings.BUREAU_NAME}{(run.title or name).removesuffix('发放')}发放花名册",
        scope_label=scope_label,
        whole_district=not street_code and len(prefix) <= 6,
        line_count=line_count,
        region_names=region_names,
        category_by_area=category_by_area,
        rows=stream_rows(queryset),
    )


_END = object()


def stream_rows(queryset: QuerySet, chunk_size: int = PREFETCH_CHUNK_SIZE) -> Iterator[tuple]:
    """The queryset's rows, read ahead by a thread on its own connection while the caller formats them.

    Writing the workbook is CPU-bound Python; reading is mostly waiting for PostgreSQL (on another core)
    and psycopg, which releases the GIL while it waits. So a reader thread fetches the server-side
    cursor's chunks into a small bounded queue and the export costs about the writing alone.

    The thread evaluates the very queryset it is given (the caller's region scope included) on its own
    database connection, which it opens and closes; the caller's connection is not touched. A separate
    connection would not see the caller's uncommitted writes, so inside a transaction (and on SQLite)
    the rows are read here, in the caller's thread, as a plain chunked iterator. An exception in the
    reader is raised here, in the caller, never a silently shortened roster; if the caller stops early
    (an error while writing), the reader stops and its connection is closed before this returns."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or connection.in_atomic_block or not connection.get_autocommit():
        yield from queryset.iterator(chunk_size=CHUNK_SIZE)
        return
    chunks: queue.Queue = queue.Queue(maxsize=PREFETCH_CHUNKS)
    stop = threading.Event()

    def put(item) -> bool:
        # Blocks while the queue is full (no polling: every wake-up would take the GIL from the writer);
        # a caller that stops early empties the queue until this thread is gone.
        if stop.is_set():
            return False
        chunks.put(item)
        return not stop.is_set()

    def read() -> None:
        try:
            with transaction.atomic(using=queryset.db):
                # Inside a transaction the server-side cursor streams (no WITH HOLD materialising the
                # whole result first), and a fast-start plan gets the first chunk to the writer at once:
                # the rest of the query overlaps the writing. No JIT: the plan's estimated cost (index
                # probes per line, ~5 million for 150,000 lines) passes every JIT threshold, and compiling
                # it took the server ~4 s of CPU before the first row, for a plan of index probes.
                with connections[queryset.db].cursor() as cursor:
                    cursor.execute("SET LOCAL cursor_tuple_fraction = 0.1")
                    cursor.execute("SET LOCAL jit = off")
                rows = queryset.all().iterator(chunk_size=chunk_size)
                try:
                    while chunk := list(islice(rows, chunk_size)):
                        if not put(chunk):
                            return
                finally:
                    rows.close()  # the server-side cursor, inside its transaction
            put(_END)
        except BaseException as exc:  # handed to the caller, who raises it
            put(exc)
        finally:
            connections[queryset.db].close()

    reader = threading.Thread(target=read, name="roster-reader", daemon=True)
    reader.start()
    try:
        while True:
            try:
                item = chunks.get(timeout=1)
            except queue.Empty:
                if not reader.is_alive() and chunks.empty():
                    raise RuntimeError("花名册读取线程意外结束") from None
                continue
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item
    finally:
        stop.set()
        while reader.is_alive():
            try:
                while True:
                    chunks.get_nowait()
            except queue.Empty:
                pass
            reader.join(timeout=0.05)


# --- formatting --------------------------------------------------------------------------------------


@dataclass
class Totals:
    lines: int = 0
    covered: int = 0
    amounts: list[Decimal] = field(default_factory=lambda: [Decimal("0.00")] * 4)

    def merge(self, other: Totals) -> None:
        self.lines += other.lines
        self.covered += other.covered
        self.amounts = [a + b for a, b in zip(self.amounts, other.amounts, strict=True)]


class _MoneyCell(Cell):
    """A write-only number cell with a fixed style, given a new amount for every line.

    Per-cell costs of openpyxl's write-only mode paid once instead of once per line: `style_id`
    (openpyxl looks the style up in the workbook's style list for every styled cell it writes; this
    cell's style never changes, so its id is looked up — and the style registered — at creation) and
    `has_style` (a scan of the style array, twice per cell), the type inference of `value =` (always a
    float here), and the repr that `append()` builds when it tries the cell as a plain value first
    (the default repr works out the cell's coordinate)."""

    __slots__ = ("_fixed_style_id",)

    def __init__(self, worksheet, style_array) -> None:
        super().__init__(worksheet, row=1, column=1, value=0.0, style_array=style_array)
        self._fixed_style_id = super().style_id

    @property
    def has_style(self) -> bool:
        return True

    def set_amount(self, amount: Decimal) -> None:
        # openpyxl writes every number as "%.16g" of a float, a Decimal included (converting it three
        # times: isnan, isinf, the format); converted once here, the file is byte for byte the same.
        self._value = float(amount)

    @property
    def style_id(self) -> int:
        return self._fixed_style_id

    def __repr__(self) -> str:
        return "<roster cell>"


XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
# Set False to write every line through openpyxl's own cell path (the tests compare both, byte for byte).
FAST_LINES = True


class _LineRow(list):
    """One roster line for `sheet.append()`, written straight as its `<row>` element (`_row_element`).

    openpyxl's write-only path costs about 100 µs a line here — for each cell a type inference, a
    coordinate and three nested `xf.element` writes: over a third of a 150,000-line roster. A line holds
    only text, integers and the four amounts, whose XML is simple, so the element is built in one go with
    exactly what openpyxl writes for those cells: text inline (`t="inlineStr"`, `xml:space="preserve"` on
    text with outer blanks), an integer as `"%.16g"`, an amount with its fixed style id. Anything openpyxl
    would treat otherwise (a text it takes for a formula or an error code, a control character it refuses,
    a cell object) makes the line go through openpyxl's own path instead (`_row_element` returns None)."""

    __slots__ = ()


def _row_element(values: list, styles: tuple, letters: tuple, row_idx: int):
    r = str(row_idx)
    row = Element("row", {"r": r})
    for value, style, letter in zip(values, styles, letters, strict=True):
        kind = type(value)
        if kind is str:
            if value == "":
                SubElement(row, "c", {"r": letter + r, "t": "inlineStr"}).text = ""
                continue
            if (
                value[0] == "="
                or value in ERROR_CODES
                or len(value) > 32767
                or ILLEGAL_CHARACTERS_RE.search(value) is not None
            ):
                return None
            cell = SubElement(row, "c", {"r": letter + r, "t": "inlineStr"})
            text = SubElement(
                SubElement(cell, "is"), "t", {XML_SPACE: "preserve"} if value != value.strip() else {}
            )
            text.text = value
        elif kind is int or kind is float:
            attrs = {"r": letter + r, "s": style, "t": "n"} if style else {"r": letter + r, "t": "n"}
            SubElement(SubElement(row, "c", attrs), "v").text = "%.16g" % value  # noqa: UP031 — openpyxl's form
        else:
            return None
    return row


def _write_lines_fast(sheet, money_cells: tuple) -> None:
    """Let `sheet` (write-only) take `_LineRow`s: written as one element each when `_row_element` can,
    else by openpyxl's own path. Hooks the two per-sheet steps of openpyxl's write-only append (the
    conversion of values to cells, the writing of a row), on this sheet object only."""
    ncols = len(HEADERS)
    letters = tuple(get_column_letter(i) for i in range(1, ncols + 1))
    money_style = str(money_cells[0].style_id)
    styles = tuple(money_style if i in MONEY_COLUMNS else "" for i in range(ncols))
    to_cells = sheet._values_to_row
    sheet._get_writer()
    writer = sheet._writer
    write_row = writer.write_row

    def values_to_row(values, row_idx):
        if type(values) is _LineRow and row_idx not in sheet.row_dimensions:
            element = _row_element(values, styles, letters, row_idx)
            if element is not None:
                return element
            values = list(values)  # openpyxl's path: the amounts back in their styled cells
            for i, cell in zip(MONEY_COLUMNS, money_cells, strict=True):
                cell._value = values[i]
                values[i] = cell
        return to_cells(values, row_idx)

    def write(xf, row, row_idx):
        if hasattr(row, "tag"):  # an element from _row_element
            xf.write(row)
        else:
            write_row(xf, row, row_idx)

    sheet._values_to_row = values_to_row
    writer.write_row = write


def _change_label(line_type: str, for_month: datetime.date, change: str) -> str:
    if line_type == PaymentLine.LineType.BACK_PAY:
        return f"补发（{_cn_month(for_month)}）"
    if line_type == PaymentLine.LineType.RECOVERY:
        return f"扣回（{_cn_month(for_month)}）"
    if line_type == PaymentLine.LineType.ONE_OFF:
        return "一次性发放"
    return CHANGE_LABELS.get(change, change)


def write_roster_xlsx(
    data: RosterData, output: IO[bytes], progress: Callable[[int, str], None] | None = None
) -> Totals:
    """Stream the roster into `output`: title, header, lines, a total per street and the grand total."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("发放花名册")
    ncols = len(HEADERS)
    last_col = get_column_letter(ncols)
    for i, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A4"
    sheet.print_title_rows = "1:3"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_options.horizontalCentered = True
    sheet.merged_cells.add(f"A1:{last_col}1")
    sheet.merged_cells.add(f"A2:{last_col}2")

    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)

    def styled(value, *, bold=False, size=None, fill=None, align=None, number_format=None):
        cell = WriteOnlyCell(sheet, value=value)
        if bold or size:
            cell.font = Font(bold=bold, size=size)
        if fill:
            cell.fill = PatternFill("solid", fgColor=fill)
        if align:
            cell.alignment = Alignment(horizontal=align, vertical="center", wrap_text=True)
        if number_format:
            cell.number_format = number_format
        cell.border = border
        return cell

    title = WriteOnlyCell(sheet, value=data.title)
    title.font = Font(bold=True, size=16)
    title.alignment = Alignment(horizontal="center", vertical="center")
    sheet.append([title])
    status = data.run.get_status_display() + (
        "" if data.run.status == PaymentRun.Status.LOCKED else "（未锁定，仅供核对）"
    )
    subtitle = WriteOnlyCell(
        sheet,
        value=f"发放月份：{_cn_month(data.run.month)}　　范围：{data.scope_label}　　批次状态：{status}"
        f"　　共 {data.line_count} 笔",
    )
    subtitle.alignment = Alignment(horizontal="center")
    sheet.append([subtitle])
    sheet.append([styled(h, bold=True, fill="D9E1F2", align="center") for h in HEADERS])

    # Data cells: plain values, except the four amounts, which carry the ¥ number format through one
    # shared style (setting font/format objects cell by cell costs a style lookup per cell, which would
    # dominate a 150,000-line roster). Grid lines are printed instead of a border on every cell.
    money_style = styled(Decimal(0), number_format=MONEY_FORMAT)._style
    total_text_style = styled("", bold=True, fill="F2F2F2")._style
    total_money_style = styled(Decimal(0), bold=True, fill="F2F2F2", number_format=MONEY_FORMAT)._style
    total_int_style = styled(0, bold=True, fill="F2F2F2")._style
    sheet.print_options.gridLines = True

    def cell(value, style):
        c = WriteOnlyCell(sheet, value=value)
        c._style = copy(style)
        return text_safe(c)  # a street named "=…" in a 小计 label stays text

    def total_row(label: str, totals: Totals) -> list:
        row = [
            cell(label, total_text_style),
            cell("", total_text_style),
            cell(f"共 {totals.lines} 笔", total_text_style),
        ]
        row += [cell("", total_text_style), cell("", total_text_style), cell(totals.covered, total_int_style)]
        row += [cell(a, total_money_style) for a in totals.amounts]
        row += [cell("", total_text_style) for _ in range(ncols - len(row))]
        return row

    # The four money cells of a line: made once and given each line's amounts (append() writes a row out
    # before it returns, so one set of cells serves every line).
    base_cell, increment_cell, other_cell, amount_cell = (
        _MoneyCell(sheet, money_style) for _ in MONEY_COLUMNS
    )

    fast = FAST_LINES and LXML  # the elements are lxml's: openpyxl writes with lxml when it is installed
    if fast:
        _write_lines_fast(sheet, (base_cell, increment_cell, other_cell, amount_cell))

    month_label = _cn_month(data.run.month)
    names = data.region_names
    categories = {area: safe_cell(label, sheet) for area, label in data.category_by_area.items()}
    change_labels: dict[tuple, str] = {}
    unsafe_first = FORMULA_FIRST
    grand = Totals()
    current_street = current_region = None
    street_name = street_cell = community_cell = ""
    lines = covered_sum = 0
    base_sum = increment_sum = other_sum = amount_sum = Decimal("0.00")

    def close_street() -> None:
        totals = Totals(lines, covered_sum, [base_sum, increment_sum, other_sum, amount_sum])
        sheet.append(total_row(f"{street_name} 小计", totals))
        grand.merge(totals)

    for n, row in enumerate(data.rows, start=1):
        (
            region_code,
            name,
            id_number,
            area_type,
            covered,
            base,
            increment,
            other,
            amount,
            bank_name,
            bank_account,
            holder,
            line_type,
            for_month,
            change,
            payee_facility_id,
        ) = row
        if region_code != current_region:  # lines come ordered by region code
            current_region = region_code
            street = _street_code(region_code)
            if street != current_street:
                if current_street is not None:
                    close_street()
                current_street = street
                street_name = names.get(street, street)
                street_cell = safe_cell(street_name, sheet)
                lines = covered_sum = 0
                base_sum = increment_sum = other_sum = amount_sum = Decimal("0.00")
            community_cell = safe_cell(names.get(region_code, region_code), sheet)
        lines += 1
        covered_sum += covered
        base_sum += base
        increment_sum += increment
        other_sum += other
        amount_sum += amount
        key = (line_type, for_month, change)
        change_label = change_labels.get(key)
        if change_label is None:
            change_label = change_labels[key] = _change_label(line_type, for_month, change)
        # User-entered text (names, bank details) that a spreadsheet would take for a formula is written
        # as text (core.exports): one first-character test per text, numbers and dates untouched.
        if (
            (name and name[0] in unsafe_first)
            or (bank_name and bank_name[0] in unsafe_first)
            or (bank_account and bank_account[0] in unsafe_first)
            or (holder and holder[0] in unsafe_first)
        ):
            name, bank_name, bank_account, holder = (
                safe_cell(text or "", sheet) for text in (name, bank_name, bank_account, holder)
            )
        if payee_facility_id is not None and not bank_account:
            bank_account = PAYEE_WITHOUT_ACCOUNT
        if fast:
            sheet.append(
                _LineRow(
                    (
                        street_cell,
                        community_cell,
                        name or "",
                        id_number or "",  # text, never a number: 18 digits would lose precision in Excel
                        categories.get(area_type or "", ""),
                        covered,
                        float(base),  # openpyxl writes every number as "%.16g" of a float
                        float(increment),
                        float(other),
                        float(amount),
                        month_label,
                        bank_name or "",
                        bank_account or "",
                        holder or "",
                        change_label,
                    )
                )
            )
        else:
            base_cell.set_amount(base)
            increment_cell.set_amount(increment)
            other_cell.set_amount(other)
            amount_cell.set_amount(amount)
            sheet.append(
                [
                    street_cell,
                    community_cell,
                    name or "",
                    id_number or "",
                    categories.get(area_type or "", ""),
                    covered,
                    base_cell,
                    increment_cell,
                    other_cell,
                    amount_cell,
                    month_label,
                    bank_name or "",
                    bank_account or "",
                    holder or "",
                    change_label,
                ]
            )
        if progress and n % PROGRESS_EVERY == 0 and data.line_count:
            progress(5 + int(90 * n / data.line_count), f"已写入 {n}/{data.line_count} 笔")
    if current_street is not None:
        close_street()
    sheet.append(total_row("全区合计" if data.whole_district else "合计", grand))
    sheet.append([])
    sheet.append(
        [
            "制表单位：" + settings.BUREAU_NAME,
            "",
            "",
            "",
            "制表人：",
            "",
            "",
            "审核人：",
            "",
            "",
            "制表日期：",
        ]
    )
    if progress:
        progress(97, "正在保存文件")
    workbook.save(output)
    return grand


# --- the report type ---------------------------------------------------------------------------------


def build_payment_roster(ctx: BuildContext) -> ReportResult:
    run = PaymentRun.objects.select_related("benefit_type").filter(pk=ctx.params.get("run")).first()
    if run is None:
        raise ReportError("所选发放批次已不存在")
    ctx.progress(2, "正在读取发放明细")
    data = roster_lines(ctx.user, run, ctx.params.get("street") or "")
    if data.line_count == 0:
        raise ReportError("该发放批次在所选范围内没有发放明细，未生成花名册")
    write_roster_xlsx(data, ctx.output, ctx.progress)
    return ReportResult(
        filename=f"{run.benefit_type.name}发放花名册_{_cn_month(run.month)}_{data.scope_label}.xlsx",
        record_count=data.line_count,
        contains_personal_data=True,
    )
