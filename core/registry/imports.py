"""户籍台账导入: households and their members from a bureau's Excel ledger, all or nothing.

One row per person; the rows sharing a 户序号 (any key the ledger uses) form one household, whose own
fields (社区/村, 住址, bank account …) may be given on any of its rows but must agree. Every row is checked
the way the 家庭登记 form checks a member (`services._clean_member`: the ID number's check digit, birth date
and sex from it, one 户主 a household), and the file as a whole: an ID number twice in the file or already
registered, a community outside the importer's scope. A file with any error writes nothing and returns the
errors row by row; a clean file is written in one transaction — 户编号 drawn from each community's sequence
as registration draws them, history rows for every household and person — set-based: with COPY on
PostgreSQL (`bulkload.copy_rows`, keys reserved first), `bulk_create` elsewhere (benchmarks/README.md,
"户籍台账导入", for what 100,000 rows take).

The reports kit runs it as a job (reports/imports.py): upload, progress, the error list or the result list
for download. This module knows nothing of jobs: `read_rows` parses, `check` validates, `write` writes.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from zipfile import BadZipFile

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from simple_history.utils import bulk_create_with_history

from .bulkload import copy_rows, reserve_ids
from .choices import (
    AreaType,
    DisabilityCategory,
    DisabilityGrade,
    DocumentType,
    LabourCapacity,
    MaritalStatus,
    RegionLevel,
    Relation,
    SelfCare,
    Sex,
)
from .crypto import pii_hash, pii_hashes
from .models import Household, HouseholdSequence, Membership, Person, Region
from .querysets import user_scope_prefix
from .services import CleanMember, _clean_member, _today, clean_household_fields

#: The most rows one file may hold: a district of ~100,000 people in one file, a larger one split. The write
#: runs in one transaction without progress reports (benchmarks/README.md, "导入": ~2 min for 100,000 rows
#: on the slow bench host), well inside REPORT_JOB_STALE_SECONDS.
MAX_ROWS = 100_000
#: Rows written per INSERT.
BATCH = 2_000
CHANGE_REASON = "户籍台账导入"


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    required: bool = False
    # The choices whose labels (or stored values) the column takes; None: free text.
    choices: Any = None
    width: int = 12
    note: str = ""


COLUMNS: tuple[Column, ...] = (
    Column("户序号", "household_key", True, width=10, note="同一户的成员填写相同的户序号（可用原台账户号）"),
    Column("社区/村区划代码", "region", True, width=16, note="12位统计用区划代码，见“区划代码”工作表"),
    Column("住址", "address", True, width=30),
    Column("城乡类型", "area_type", choices=AreaType, width=10, note="不填按社区/村的城乡类型"),
    Column("姓名", "name", True, width=10),
    Column("证件类型", "id_type", choices=DocumentType, width=12, note="不填为居民身份证"),
    Column("证件号码", "id_number", True, width=22, note="请设为文本格式，以免末几位丢失"),
    Column("与户主关系", "relation", True, choices=Relation, width=10),
    Column("性别", "sex", choices=Sex, width=6, note="居民身份证可不填"),
    Column("出生日期", "birth_date", width=12, note="居民身份证可不填；格式 2001-02-03"),
    Column("民族", "ethnicity", width=8),
    Column("联系电话", "phone", width=14, note="户主的电话作为家庭联系电话"),
    Column("婚姻状况", "marital_status", choices=MaritalStatus, width=10),
    Column("残疾类别", "disability_category", choices=DisabilityCategory, width=10),
    Column("残疾等级", "disability_grade", choices=DisabilityGrade, width=8),
    Column("残疾证号", "disability_cert_no", width=22),
    Column("自理能力", "self_care", choices=SelfCare, width=10),
    Column("劳动能力", "labour_capacity", choices=LabourCapacity, width=16),
    Column("开户银行", "bank_name", width=16),
    Column("银行账号", "bank_account", width=22, note="请设为文本格式"),
    Column("开户人", "account_holder", width=10),
)
BY_HEADER = {c.header: c for c in COLUMNS}
HOUSEHOLD_KEYS = ("region", "address", "area_type", "bank_name", "bank_account", "account_holder")
LABELS = {c.key: c.header for c in COLUMNS}
MAX_LENGTHS = {
    "household_key": 40,
    "name": 50,
    "address": 200,
    "phone": 20,
    "ethnicity": 20,
    "disability_cert_no": 32,
    "bank_name": 60,
    "bank_account": 32,
    "account_holder": 50,
}
# Numbers Excel keeps as floating point lose digits past the 15th: such a cell must be text.
LONG_NUMBER_KEYS = ("id_number", "bank_account")


class ImportFileError(Exception):
    """The file as a whole cannot be read (not a workbook, no header, a required column missing)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RowError:
    row: int  # the spreadsheet's row number, as the user sees it
    household_key: str
    name: str
    message: str


@dataclass
class ImportedHousehold:
    key: str
    region: Region
    fields: dict[str, str]
    members: list[tuple[int, CleanMember]] = field(default_factory=list)
    number: str = ""


@dataclass
class Checked:
    households: list[ImportedHousehold]
    errors: list[RowError]
    rows: int

    @property
    def people(self) -> int:
        return sum(len(h.members) for h in self.households)


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(handle: IO[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, {key: cell value}) for each non-blank row under the header of the first sheet."""
    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError("无法读取该文件，请上传由导入模板填写的 Excel 文件（.xlsx）") from exc
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise ImportFileError("文件的第一个工作表是空的")
        positions: dict[str, int] = {}
        for index, title in enumerate(header):
            column = BY_HEADER.get(_cell_text(title).rstrip("*＊ "))
            if column is not None and column.key not in positions:
                positions[column.key] = index
        missing = [c.header for c in COLUMNS if c.required and c.key not in positions]
        if missing:
            raise ImportFileError(
                f"第一个工作表的第 1 行缺少必填列：{'、'.join(missing)}。请使用导入模板，不要修改列名"
            )
        for number, values in enumerate(rows, start=2):
            if values is None or all(v is None or _cell_text(v) == "" for v in values):
                continue
            if number - 1 > MAX_ROWS:
                raise ImportFileError(f"一个文件最多 {MAX_ROWS:,} 行，请分成几个文件导入")
            yield number, {key: values[i] if i < len(values) else None for key, i in positions.items()}
    finally:
        workbook.close()


# --------------------------------------------------------------------------------------------------
# Checking
# --------------------------------------------------------------------------------------------------


def _by_label(choices) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for value, label in choices.choices:
        mapping[str(label)] = value
        mapping[str(value)] = value
    return mapping


_CHOICE_MAPS = {c.key: _by_label(c.choices) for c in COLUMNS if c.choices is not None}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def _date_text(value: Any) -> tuple[str, str]:
    """(ISO date or "", error)."""
    if value is None or value == "":
        return "", ""
    if isinstance(value, datetime.datetime | datetime.date):
        return _cell_text(value), ""
    text = _cell_text(value)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date().isoformat(), ""  # noqa: DTZ007 — a date
        except ValueError:
            continue
    return "", f"出生日期“{text}”格式无效，请填写如 2001-02-03"


def _clean_row(values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The row's cells as the registration's values, or its errors (Chinese, naming the column)."""
    errors: list[str] = []
    data: dict[str, Any] = {}
    for key, raw in values.items():
        if (
            key in LONG_NUMBER_KEYS
            and isinstance(raw, int | float)
            and not isinstance(raw, bool)
            and (len(str(int(raw))) > 15 or isinstance(raw, float) and not raw.is_integer())
        ):
            errors.append(f"{LABELS[key]}是数字格式，末几位可能已丢失，请将该列设为文本后重新填写")
            continue
        if key == "birth_date":
            text, error = _date_text(raw)
            if error:
                errors.append(error)
            data[key] = text
            continue
        text = _cell_text(raw)
        if key in _CHOICE_MAPS and text:
            if text not in _CHOICE_MAPS[key]:
                allowed = "、".join(str(label) for _, label in BY_KEY[key].choices.choices)
                errors.append(f"{LABELS[key]}“{text}”无效，可填：{allowed}")
                continue
            data[key] = _CHOICE_MAPS[key][text]
            continue
        limit = MAX_LENGTHS.get(key)
        if limit and len(text) > limit:
            errors.append(f"{LABELS[key]}不能超过 {limit} 个字")
            continue
        data[key] = text
    if not data.get("household_key") and "household_key" in values:
        errors.append("请填写户序号")
    return data, errors


BY_KEY = {c.key: c for c in COLUMNS}


def check(
    rows: Iterable[tuple[int, dict[str, Any]]],
    *,
    actor,
    progress: Callable[[int, str], None] = lambda percent, message="": None,
    today: datetime.date | None = None,
) -> Checked:
    """Every row and the file as a whole checked; nothing is written. `progress(percent, message)` is
    called every few thousand rows (0–60)."""
    today = today or _today()
    errors: list[RowError] = []
    households: dict[str, ImportedHousehold] = {}
    household_values: dict[str, dict[str, tuple[int, str]]] = defaultdict(dict)
    heads: dict[str, list[int]] = defaultdict(list)
    first_row: dict[str, int] = {}
    seen_numbers: dict[str, int] = {}
    members: list[tuple[int, str, CleanMember]] = []
    count = 0

    def refuse(row: int, key: str, name: str, message: str) -> None:
        errors.append(RowError(row, key, name, message))

    for row, values in rows:
        count += 1
        if count % 5_000 == 0:
            progress(min(40, count * 40 // max(count, 100_000)), f"已读取 {count:,} 行")
        data, problems = _clean_row(values)
        key, name = data.get("household_key", ""), data.get("name", "")
        for message in problems:
            refuse(row, key, name, message)
        if not key:
            continue
        first_row.setdefault(key, row)
        for field_key in HOUSEHOLD_KEYS:
            value = data.get(field_key, "")
            if not value:
                continue
            earlier = household_values[key].get(field_key)
            if earlier is None:
                household_values[key][field_key] = (row, value)
            elif earlier[1] != value:
                refuse(row, key, name, f"{LABELS[field_key]}与同户第 {earlier[0]} 行不一致")
        if data.get("relation") == Relation.HEAD:
            heads[key].append(row)
        if problems:
            continue
        member, member_errors = _clean_member(data, today=today)
        for field_key, message in member_errors.items():
            label = LABELS.get(field_key, "")
            refuse(row, key, name, message if not label or label in message else f"{label}：{message}")
        if member is None:
            continue
        if member.id_number in seen_numbers:
            refuse(row, key, name, f"证件号码与第 {seen_numbers[member.id_number]} 行重复")
            continue
        seen_numbers[member.id_number] = row
        members.append((row, key, member))
    progress(45, "正在核对社区和已登记人员")

    regions = _regions(actor, {v["region"][1] for v in household_values.values() if "region" in v})
    for key, row in first_row.items():
        values = {f: v for f, (_, v) in household_values[key].items()}
        if "region" not in values:
            refuse(row, key, "", "请填写社区/村区划代码")
            continue
        region, problem = regions.get(values["region"], (None, f"社区/村区划代码“{values['region']}”不存在"))
        if problem:
            refuse(household_values[key]["region"][0], key, "", problem)
            continue
        cleaned, field_errors = clean_household_fields(
            address=values.get("address", ""),
            area_type=values.get("area_type", ""),
            bank_name=values.get("bank_name", ""),
            bank_account=values.get("bank_account", ""),
            account_holder=values.get("account_holder", ""),
        )
        for field_key, message in field_errors.items():
            refuse(household_values[key].get(field_key, (row, ""))[0], key, "", message)
        if len(heads[key]) != 1:
            message = "该户没有户主（与户主关系填“户主”的成员）" if not heads[key] else "一户只能有一名户主"
            for head_row in heads[key][1:] or [row]:
                refuse(head_row, key, "", message)
        households[key] = ImportedHousehold(
            key=key,
            region=region,
            fields={
                **cleaned,
                "area_type": values.get("area_type") or region.area_type,
                "bank_name": values.get("bank_name", ""),
            },
        )
    for number, message in _registered(seen_numbers).items():
        refuse(seen_numbers[number], "", "", message)
    for row, key, member in members:
        if key in households:
            households[key].members.append((row, member))
    progress(60, "检查完成")
    errors.sort(key=lambda e: e.row)
    names = {row: member.name for row, _, member in members}
    keys = {row: key for row, key, _ in members}
    errors = [
        RowError(e.row, e.household_key or keys.get(e.row, ""), e.name or names.get(e.row, ""), e.message)
        for e in errors
    ]
    return Checked(households=list(households.values()), errors=errors, rows=count)


def _regions(actor, codes: set[str]) -> dict[str, tuple[Region | None, str]]:
    """Each code's community, or why it cannot take households from this importer."""
    prefix = user_scope_prefix(actor)
    found = {r.code: r for r in Region.objects.filter(code__in=list(codes))}
    answer: dict[str, tuple[Region | None, str]] = {}
    for code in codes:
        region = found.get(code)
        if region is None:
            answer[code] = (None, f"社区/村区划代码“{code}”不存在")
        elif region.level != RegionLevel.COMMUNITY:
            answer[code] = (None, f"“{code}”是{region.name}，家庭只能登记在社区或村")
        elif not region.is_active:
            answer[code] = (None, f"{region.name}（{code}）已停用")
        elif prefix is None or not code.startswith(prefix):
            answer[code] = (None, f"{region.name}（{code}）不在您的管辖范围内")
        else:
            answer[code] = (region, "")
    return answer


def _registered(numbers: dict[str, int]) -> dict[str, str]:
    """The numbers already registered, with the registration's message (a few thousand at a time)."""
    answer: dict[str, str] = {}
    ordered = list(numbers)
    for start in range(0, len(ordered), 5_000):
        chunk = ordered[start : start + 5_000]
        by_hash = {digest: number for number in chunk for digest in pii_hashes(number)}
        existing = Person.objects.filter(id_number_hash__in=list(by_hash)).values_list(
            "id_number_hash", "household__number"
        )
        for digest, household_number in existing:
            answer[by_hash[digest]] = (
                f"该证件号码已登记，人员在家庭 {household_number} 中"
                if household_number
                else "该证件号码已登记（未在本区家庭中），请在家庭档案中办理迁入"
            )
    return answer


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def _draw_numbers(region: Region, count: int) -> list[str]:
    """`count` 户编号 of a community from its sequence (the row stays locked until commit, as for a
    registration), skipping numbers a household already has."""
    table = HouseholdSequence._meta.db_table
    sql = (
        f"INSERT INTO {table} (region_code, last_value) VALUES (%s, %s) "  # noqa: S608 — our table
        f"ON CONFLICT (region_code) DO UPDATE SET last_value = {table}.last_value + %s RETURNING last_value"
    )
    numbers: list[str] = []
    while len(numbers) < count:
        wanted = count - len(numbers)
        with connection.cursor() as cursor:
            cursor.execute(sql, [region.code, wanted, wanted])
            last = cursor.fetchone()[0]
        if last > 999_999:
            raise ValidationError(f"{region.name}的户编号已用完，请联系系统管理员")
        drawn = [f"{region.code}{value:06d}" for value in range(last - wanted + 1, last + 1)]
        taken = set(Household.objects.filter(number__in=drawn).values_list("number", flat=True))
        numbers.extend(n for n in drawn if n not in taken)
    return numbers


@transaction.atomic
def write(checked: Checked, *, actor, joined_on: datetime.date | None = None) -> list[ImportedHousehold]:
    """Write a checked file's households and people (call only when `checked.errors` is empty). Raises
    ValidationError (Chinese) when someone registered one of its people since the check."""
    if checked.errors:
        raise ValueError("a file with errors is never written")
    joined_on = joined_on or _today()
    by_region: dict[int, list[ImportedHousehold]] = defaultdict(list)
    for household in checked.households:
        by_region[household.region.pk].append(household)
    for region_households in by_region.values():
        region = region_households[0].region
        for household, number in zip(
            region_households, _draw_numbers(region, len(region_households)), strict=True
        ):
            household.number = number
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                _write_copy(checked, actor=actor, joined_on=joined_on)
            else:
                _write_orm(checked, actor=actor, joined_on=joined_on)
    except IntegrityError as error:
        if "id_number_hash" not in str(error):
            raise
        raise ValidationError(
            "导入期间，文件中有人员已被他人登记，未导入任何数据。请重新导入，查看错误明细"
        ) from None
    return checked.households


def _head_phone(household: ImportedHousehold) -> str:
    return next((m.details["phone"] for _, m in household.members if m.relation == Relation.HEAD), "")


def _write_copy(checked: Checked, *, actor, joined_on: datetime.date) -> None:
    """PostgreSQL: keys reserved, every table written with COPY (bulkload.copy_rows), the values stored as
    the fields store them (ciphertext, keyed hash) — a person's history row carries the same ciphertext as
    the person. Households first without their head (the kept columns' triggers count the members as
    they arrive), then the heads in one UPDATE, then the households' history naming them."""
    now = timezone.now()
    user_id = getattr(actor, "pk", None)
    households = checked.households
    household_ids = reserve_ids(Household, len(households))
    person_ids = iter(reserve_ids(Person, checked.people))
    encrypt_number = Person._meta.get_field("id_number").encrypt
    encrypt_account = Household._meta.get_field("bank_account").encrypt
    history = {
        "history_date": now,
        "history_change_reason": CHANGE_REASON,
        "history_type": "+",
        "history_user_id": user_id,
    }
    household_rows, people, memberships, heads = [], [], [], []
    for household, household_id in zip(households, household_ids, strict=True):
        household_rows.append(
            {
                "id": household_id,
                "number": household.number,
                "region_id": household.region.pk,
                "region_code": household.region.code,
                "address": household.fields["address"],
                "area_type": household.fields["area_type"],
                "head_id": None,
                "phone": _head_phone(household),
                "bank_name": household.fields["bank_name"],
                "bank_account": encrypt_account(household.fields["bank_account"]),
                "account_holder": household.fields["account_holder"],
                "created_by_id": user_id,
                "created_at": now,
                "updated_at": now,
            }
        )
        for _, member in household.members:
            person_id = next(person_ids)
            if member.relation == Relation.HEAD:
                heads.append((household_id, person_id))
            people.append(
                {
                    "id": person_id,
                    "name": member.name,
                    "id_type": member.id_type,
                    "id_number": encrypt_number(member.id_number),
                    "id_number_hash": pii_hash(member.id_number),
                    "sex": member.sex,
                    "birth_date": member.birth_date,
                    "household_id": household_id,
                    "relation": member.relation,
                    "region_code": household.region.code,
                    **member.details,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            memberships.append(
                {
                    "person_id": person_id,
                    "household_id": household_id,
                    "relation": member.relation,
                    "joined_on": joined_on,
                    "left_on": None,
                    "reason": CHANGE_REASON,
                }
            )
    copy_rows(Household, household_rows)
    copy_rows(Person, people)
    copy_rows(Membership, memberships)
    history_fields = {f.attname for f in Person.history.model._meta.concrete_fields} - {"history_id"}
    copy_rows(
        Person.history.model,
        [{**{k: v for k, v in row.items() if k in history_fields}, **history} for row in people],
    )
    table = connection.ops.quote_name(Household._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET head_id = v.head FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, head) "  # noqa: S608
            f"WHERE {table}.id = v.id",
            [[h for h, _ in heads], [p for _, p in heads]],
        )
    head_of = dict(heads)
    history_fields = {f.attname for f in Household.history.model._meta.concrete_fields} - {"history_id"}
    copy_rows(
        Household.history.model,
        [
            {
                **{k: v for k, v in row.items() if k in history_fields},
                "head_id": head_of[row["id"]],
                **history,
            }
            for row in household_rows
        ],
    )


def _write_orm(checked: Checked, *, actor, joined_on: datetime.date) -> None:
    """Other databases (SQLite: make run's demo): the same rows through bulk_create and simple_history."""
    rows = [
        Household(
            number=h.number,
            region=h.region,
            region_code=h.region.code,
            address=h.fields["address"],
            area_type=h.fields["area_type"],
            phone=_head_phone(h),
            bank_name=h.fields["bank_name"],
            bank_account=h.fields["bank_account"],
            account_holder=h.fields["account_holder"],
            created_by=actor,
        )
        for h in checked.households
    ]
    Household.objects.bulk_create(rows, batch_size=BATCH)
    people = [
        member.person(household_row)
        for household, household_row in zip(checked.households, rows, strict=True)
        for _, member in household.members
    ]
    bulk_create_with_history(
        people, Person, batch_size=BATCH, default_user=actor, default_change_reason=CHANGE_REASON
    )
    Membership.objects.bulk_create(
        [
            Membership(
                person=person,
                household_id=person.household_id,
                relation=person.relation,
                joined_on=joined_on,
                reason=CHANGE_REASON,
            )
            for person in people
        ],
        batch_size=BATCH,
    )
    household_ids = [row.pk for row in rows]
    for start in range(0, len(household_ids), BATCH * 5):
        Household.objects.filter(pk__in=household_ids[start : start + BATCH * 5]).update(
            head=Subquery(
                Person.objects.filter(household=OuterRef("pk"), relation=Relation.HEAD).values("pk")[:1]
            )
        )
    heads = {person.household_id: person.pk for person in people if person.relation == Relation.HEAD}
    for row in rows:
        row.head_id = heads[row.pk]
    Household.history.bulk_history_create(
        rows, batch_size=BATCH, default_user=actor, default_change_reason=CHANGE_REASON
    )


def template_workbook(actor) -> bytes:
    """The blank ledger: the columns (required ones marked *, a note on each), a sheet of the communities
    the importer may import into, and a sheet of what each choice column accepts."""
    from io import BytesIO

    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "家庭成员"
    bold, required = Font(bold=True), PatternFill("solid", fgColor="FCE4D6")
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header + ("*" if column.required else ""))
        cell.font = bold
        if column.required:
            cell.fill = required
        if column.note:
            cell.comment = Comment(column.note, "民政业务管理系统")
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        if column.key in ("id_number", "bank_account", "region", "household_key", "phone"):
            sheet.column_dimensions[letter].number_format = "@"  # text, so long numbers keep every digit
    sheet.freeze_panes = "A2"
    regions = workbook.create_sheet("区划代码")
    regions.append(["社区/村区划代码", "名称", "所属街道/乡镇", "城乡类型"])
    prefix = user_scope_prefix(actor)
    communities = (
        Region.objects.none()
        if prefix is None
        else (
            Region.objects.filter(level=RegionLevel.COMMUNITY, is_active=True, code__startswith=prefix)
            .select_related("parent")
            .order_by("code")
        )
    )
    for region in communities:
        regions.append(
            [
                region.code,
                region.name,
                region.parent.name if region.parent else "",
                region.get_area_type_display(),
            ]
        )
    for letter, width in zip("ABCD", (18, 24, 24, 10), strict=True):
        regions.column_dimensions[letter].width = width
    notes = workbook.create_sheet("填写说明")
    notes.append(["列", "必填", "说明", "可填写的值"])
    for column in COLUMNS:
        allowed = "、".join(str(label) for _, label in column.choices.choices) if column.choices else ""
        notes.append([column.header, "是" if column.required else "", column.note, allowed])
    notes.append([])
    notes.append(["一行填写一名家庭成员；同一户的成员填写相同的户序号，每户须有一名户主。"])
    notes.append(
        [
            "户的信息（社区/村、住址、城乡类型、开户银行、银行账号、开户人）填在户主一行即可，其他行可留空；填写时须与户主一行一致。"
        ]
    )
    notes.append(
        [
            "文件中任一行有误时不导入任何数据，并给出逐行的错误明细；改正后重新上传即可。户编号由系统按社区顺序生成。"
        ]
    )
    for letter, width in zip("ABCD", (16, 6, 40, 60), strict=True):
        notes.column_dimensions[letter].width = width
    output = BytesIO()
    workbook.save(output)
    return output.getvalue()
