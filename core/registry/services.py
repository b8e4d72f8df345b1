"""Every write to the registry: one function per business action, keyword-only, atomic.

Validation errors are `ValidationError` with Chinese messages keyed to fields. Member rows of a
household form are keyed `members.<index>.<field>` (and `members` for errors about the set as a whole),
so a view can put each message beside the input it concerns."""

from __future__ import annotations

import datetime
import functools
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, Model, OuterRef
from django.utils import timezone

from core.accounts.models import AccessLog

from . import events
from .choices import (
    AreaType,
    AssetKind,
    AttachmentType,
    DisabilityCategory,
    DisabilityGrade,
    DocumentType,
    FactKind,
    FactSource,
    IncomeKind,
    LabourCapacity,
    LifeEventKind,
    MaritalStatus,
    RegionLevel,
    Relation,
    ResidenceStatus,
    SelfCare,
    Sex,
)
from .crypto import id_number_q, pii_hashes
from .idnumbers import IdNumberError, parse_ric
from .masking import MASK_CHAR, unmasked
from .models import (
    AssetRecord,
    Attachment,
    Household,
    HouseholdSequence,
    IncomeRecord,
    LifeEvent,
    Membership,
    Person,
    PersonFact,
    Region,
)
from .querysets import user_scope_prefix
from .text import visible_text

FULL_DATA_PERMISSION = "registry.view_full_personal_data"

# File signatures (magic bytes) of the document formats caseworkers upload: the extension alone is
# whatever the scanner or the user typed.
FILE_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "tif": (b"II*\x00", b"MM\x00*"),
    "tiff": (b"II*\x00", b"MM\x00*"),
    "doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    "xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
}

# A person's facts an assistance amount rests on (分类施保, 单人保): a correction is a reason to review.
AMOUNT_CONDITION_FIELDS = ("disability_category", "disability_grade", "serious_illness")
PERSON_DETAIL_FIELDS = (
    "phone",
    "ethnicity",
    "marital_status",
    "disability_category",
    "disability_grade",
    "disability_cert_no",
    "serious_illness",
    "self_care",
    "labour_capacity",
)
PERSON_UPDATABLE_FIELDS = ("name", *PERSON_DETAIL_FIELDS)
HOUSEHOLD_UPDATABLE_FIELDS = ("address", "area_type", "phone", "bank_name", "bank_account", "account_holder")
# Numbers an edit form may show masked (masking.unmasked keeps the stored one when the mask comes back):
# a mask changed only in part is neither the old number nor a new one.
MASKED_FIELDS = {
    "phone": "联系电话不能含有“*”，请填写完整号码",
    "bank_account": "银行账号不能含有“*”，请填写完整账号",
}
# Household texts that must show something when given (core.registry.text.visible_text).
TEXT_LABELS = {"address": "住址", "account_holder": "开户人"}


def _today() -> datetime.date:
    return timezone.localdate()


def _with_actor(instance: Model, actor) -> Model:
    """simple_history records who made the change even outside a request (tasks, shell, tests)."""
    if actor is not None and getattr(actor, "pk", None):
        instance._history_user = actor
    return instance


def _in_scope(actor, region_code: str) -> bool:
    prefix = user_scope_prefix(actor)
    return prefix is not None and region_code.startswith(prefix)


def _require_scope(actor, region_code: str) -> None:
    if actor is not None and not _in_scope(actor, region_code):
        raise PermissionDenied("该记录不在您的管辖范围内")


@functools.cache
def _values(choices) -> frozenset:
    """A choices class's stored values, once: Django's `Choices.values` builds its list on every access
    (~40 µs; the 户籍台账导入 checks a hundred thousand members, several choices each)."""
    return frozenset(choices.values)


def _choice(value: Any, choices, default: str = "") -> str:
    value = "" if value is None else str(value)
    return value if value in _values(choices) else default


# ---------------------------------------------------------------------------------------------------
# Members (persons) — validation shared by registration, adding a member and corrections
# ---------------------------------------------------------------------------------------------------


@dataclass
class CleanMember:
    name: str
    id_type: str
    id_number: str
    birth_date: datetime.date
    sex: str
    relation: str
    details: dict[str, Any]

    def person(self, household: Household | None, *, region_code: str = "", **overrides: Any) -> Person:
        """The member as a new, unsaved person of `household` (or of none, scoped by `region_code`);
        `overrides` replace the member's own values."""
        values = {
            "name": self.name,
            "id_type": self.id_type,
            "id_number": self.id_number,
            "birth_date": self.birth_date,
            "sex": self.sex,
            "household": household,
            "relation": self.relation,
            "region_code": household.region_code if household is not None else region_code,
            **self.details,
        }
        return Person(**{**values, **overrides})


def _parse_date(value: Any) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None


def _clean_member(data: dict[str, Any], *, today: datetime.date) -> tuple[CleanMember | None, dict[str, str]]:
    """Check one member's fields; returns the cleaned member or the errors by field name."""
    errors: dict[str, str] = {}
    name, name_error = visible_text(data.get("name"), "姓名")
    if name_error or not name:
        errors["name"] = name_error or "请填写姓名"
    id_type = data.get("id_type") or DocumentType.RIC
    if id_type not in _values(DocumentType):
        errors["id_type"] = "证件类型无效"
    raw_number = str(data.get("id_number") or "").strip().replace(" ", "")
    given_birth = _parse_date(data.get("birth_date"))
    if data.get("birth_date") not in (None, "") and given_birth is None:
        errors["birth_date"] = "出生日期格式无效"
    given_sex = data.get("sex") or ""
    if given_sex and given_sex not in _values(Sex):
        errors["sex"] = "性别无效"
        given_sex = ""
    birth, sex, number = given_birth, given_sex, raw_number.upper()
    if id_type == DocumentType.RIC:
        try:
            info = parse_ric(raw_number, today=today)
        except IdNumberError as exc:
            errors["id_number"] = str(exc)
        else:
            number = info.number
            if given_birth and given_birth != info.birth_date:
                errors["birth_date"] = (
                    f"出生日期与身份证号码不一致（身份证号码中为 {info.birth_date:%Y-%m-%d}）"
                )
            if given_sex and given_sex != info.sex:
                errors["sex"] = f"性别与身份证号码不一致（身份证号码中为{Sex(info.sex).label}）"
            birth, sex = info.birth_date, info.sex
    else:
        if not number:
            errors["id_number"] = "请填写证件号码"
        elif len(number) > 32:
            errors["id_number"] = "证件号码不能超过32位"
        if birth is None and "birth_date" not in errors:
            errors["birth_date"] = "请填写出生日期"
        elif birth is not None and birth > today:
            errors["birth_date"] = "出生日期不能晚于今天"
        if not sex and "sex" not in errors:
            errors["sex"] = "请选择性别"
    relation = data.get("relation") or ""
    if relation not in _values(Relation):
        errors["relation"] = "请选择与户主关系"
    grade = data.get("disability_grade")
    grade = int(grade) if grade not in (None, "") and str(grade).isdigit() else None
    category = _choice(data.get("disability_category"), DisabilityCategory)
    if category and grade is None:
        errors["disability_grade"] = "请选择残疾等级"
    if grade is not None and grade not in _values(DisabilityGrade):
        errors["disability_grade"] = "残疾等级无效"
    if grade is not None and not category:
        errors["disability_category"] = "请选择残疾类别"
    if errors:
        return None, errors
    details = {
        "phone": (data.get("phone") or "").strip(),
        "ethnicity": (data.get("ethnicity") or "").strip() or "汉族",
        "marital_status": _choice(data.get("marital_status"), MaritalStatus, MaritalStatus.UNMARRIED),
        "disability_category": category,
        "disability_grade": grade,
        "disability_cert_no": (data.get("disability_cert_no") or "").strip(),
        "serious_illness": bool(data.get("serious_illness")),
        "self_care": _choice(data.get("self_care"), SelfCare, SelfCare.FULL),
        "labour_capacity": _choice(data.get("labour_capacity"), LabourCapacity, LabourCapacity.FULL),
    }
    return CleanMember(name, id_type, number, birth, sex, relation, details), {}


def _registered_message(person: Person) -> str:
    if person.household_id is not None:
        return f"该人员已在家庭 {person.household.number} 中，请先办理迁出"
    return "该身份证号码已登记"


def _check_not_registered(numbers: Iterable[str]) -> dict[str, str]:
    """Map each already-registered number to the message a caseworker needs (one query)."""
    by_hash = {digest: number for number in numbers for digest in pii_hashes(number)}
    existing = Person.objects.filter(id_number_hash__in=list(by_hash)).select_related("household")
    return {by_hash[p.id_number_hash]: _registered_message(p) for p in existing}


def _check_region(region: Region | None, actor) -> dict[str, str]:
    if region is None:
        return {"region": "请选择所属社区/村"}
    if region.level != RegionLevel.COMMUNITY:
        return {"region": "家庭只能登记在社区或村"}
    if not region.is_active:
        return {"region": "该社区/村已停用"}
    if not _in_scope(actor, region.code):
        return {"region": "该社区/村不在您的管辖范围内"}
    return {}


def _next_household_number(region: Region) -> str:
    """户编号 = the community's 12-digit code + a 6-digit sequence.

    The upsert takes a row lock held until commit, so two registrations in the same community wait for
    each other and draw different numbers; a rolled-back registration gives its number back."""
    table = HouseholdSequence._meta.db_table
    sql = (
        f"INSERT INTO {table} (region_code, last_value) VALUES (%s, 1) "  # noqa: S608 — table name is ours
        f"ON CONFLICT (region_code) DO UPDATE SET last_value = {table}.last_value + 1 RETURNING last_value"
    )
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, [region.code])
            value = cursor.fetchone()[0]
        if value > 999999:
            raise ValidationError({"region": "该社区/村的户编号已用完，请联系系统管理员"})
        number = f"{region.code}{value:06d}"
        # Households imported with numbers of this form are skipped rather than collided with.
        if not Household.objects.filter(number=number).exists():
            return number


def _is_unique_violation(error: IntegrityError, column: str) -> bool:
    """Whether `error` is the unique index of `column` refusing a row (PostgreSQL names the key in its
    detail, SQLite names table.column)."""
    message = str(error)
    return f"({column})" in message or f".{column}" in message


def _create_person(
    member: CleanMember,
    *,
    household: Household,
    joined_on: datetime.date,
    actor,
    reason: str,
    error_key: str = "id_number",
):
    person = member.person(household)
    try:
        # Registered a moment ago by a concurrent request, after _check_not_registered looked: the unique
        # index waits for that transaction and refuses the row. A savepoint keeps ours usable.
        with transaction.atomic():
            _with_actor(person, actor).save()
    except IntegrityError as error:
        if not _is_unique_violation(error, "id_number_hash"):
            raise
        existing = Person.objects.filter(id_number_q(member.id_number)).select_related("household").first()
        message = _registered_message(existing) if existing else "该身份证号码已登记"
        raise ValidationError({error_key: message}) from None
    Membership.objects.create(
        person=person, household=household, relation=member.relation, joined_on=joined_on, reason=reason
    )
    return person


@transaction.atomic
def person_register_nonresident(
    *, region: Region | None, data: dict[str, Any], actor, on_date: datetime.date | None = None
) -> Person:
    """A person without a household in the district (a traveller, a migrant) helped where the emergency
    happened (临时救助 急难发生地, DOMAIN.md): registered without a household, scoped by the community of
    the emergency (`region`), with the dated fact 户籍/常住状况 = 非本区户籍 naming the 户籍地.

    `data`: name, id_type, id_number (a 居民身份证 is checked: length, birth date, check digit), phone,
    hukou_place (户籍地). A person already registered under the number is returned as they are — the same
    record, so "one help per cause and year" sees their earlier help — when they too have no household
    and the name matches; a resident of the district is refused (apply from their household). Refused
    with Chinese errors by field, nothing saved."""
    today = on_date or _today()
    errors = _check_region(region, actor)
    if "region" in errors:
        errors["region"] = errors["region"].replace("家庭只能登记在社区或村", "急难发生地须选择社区或村")
    member, member_errors = _clean_member({**data, "relation": Relation.OTHER}, today=today)
    errors.update(member_errors)
    hukou_place, hukou_error = visible_text(data.get("hukou_place"), "户籍地")
    if hukou_error or not hukou_place:
        errors["hukou_place"] = hukou_error or "请填写户籍地"
    elif len(hukou_place) > 100:
        errors["hukou_place"] = "户籍地不能超过100个字"
    phone = (data.get("phone") or "").strip()
    if len(phone) > 20:
        errors["phone"] = "联系电话不能超过20位"
    if errors:
        raise ValidationError(errors)
    existing = (
        Person.objects.select_for_update(of=("self",))
        .filter(id_number_q(member.id_number))
        .select_related("household")
        .first()
    )
    if existing is not None:
        if existing.household_id is not None:
            raise ValidationError(
                {"id_number": f"该人员已登记在本区家庭 {existing.household.number} 中，请从其家庭档案申请"}
            )
        if existing.name != member.name:
            raise ValidationError({"name": "姓名与该证件号码已登记的姓名不一致，请核对"})
        if existing.death_date is not None:
            raise ValidationError({"id_number": "该人员已登记死亡"})
        return existing
    person = member.person(None, region_code=region.code, relation="", phone=phone)
    try:
        with transaction.atomic():
            _with_actor(person, actor).save()
    except IntegrityError as error:
        if not _is_unique_violation(error, "id_number_hash"):
            raise
        raise ValidationError({"id_number": "该证件号码刚被他人登记，请重新提交"}) from None
    PersonFact.objects.create(
        person=person,
        kind=FactKind.RESIDENCE,
        value=ResidenceStatus.NON_RESIDENT,
        valid_from=today,
        source=FactSource.SELF_DECLARED,
        note=f"户籍地：{hukou_place}",
        region_code=region.code,
        recorded_by=actor,
    )
    return person


def clean_household_fields(
    *, address: Any, area_type: str, bank_name: str, bank_account: str, account_holder: Any
) -> tuple[dict[str, str], dict[str, str]]:
    """A household's own fields checked (registration and the 户籍台账 import): the cleaned values and
    the errors by field."""
    errors: dict[str, str] = {}
    address, address_error = visible_text(address, "住址")
    if address_error or not address:
        errors["address"] = address_error or "请填写住址"
    account_holder, holder_error = visible_text(account_holder, "开户人")
    if holder_error:
        errors["account_holder"] = holder_error
    if area_type and area_type not in _values(AreaType):
        errors["area_type"] = "城乡类型无效"
    bank_account = (bank_account or "").replace(" ", "")
    if bank_account and not bank_account.isdigit():
        errors["bank_account"] = "银行账号只能包含数字"
    if bank_account and not (bank_name or "").strip():
        errors["bank_name"] = "填写银行账号时请同时填写开户银行"
    cleaned = {"address": address, "account_holder": account_holder or "", "bank_account": bank_account}
    return cleaned, errors


@transaction.atomic
def household_register(
    *,
    region: Region | None,
    address: str,
    members: list[dict[str, Any]],
    actor,
    area_type: str = "",
    phone: str = "",
    bank_name: str = "",
    bank_account: str = "",
    account_holder: str = "",
    joined_on: datetime.date | None = None,
) -> Household:
    """Register a household (户) with its members; nothing is saved unless every row is valid."""
    today = _today()
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    for key, message in _check_region(region, actor).items():
        add(key, message)
    fields, field_errors = clean_household_fields(
        address=address,
        area_type=area_type,
        bank_name=bank_name,
        bank_account=bank_account,
        account_holder=account_holder,
    )
    for key, message in field_errors.items():
        add(key, message)
    address, account_holder, bank_account = (
        fields["address"],
        fields["account_holder"],
        fields["bank_account"],
    )

    cleaned: list[tuple[int, CleanMember]] = []
    for index, data in enumerate(members):
        member, member_errors = _clean_member(data, today=today)
        for field, message in member_errors.items():
            add(f"members.{index}.{field}", message)
        if member:
            cleaned.append((index, member))
    if not members:
        add("members", "请至少登记一名家庭成员")

    first_seen: dict[str, int] = {}
    for index, member in cleaned:
        if member.id_number in first_seen:
            add(f"members.{index}.id_number", f"与第 {first_seen[member.id_number] + 1} 位成员的证件号码重复")
        else:
            first_seen[member.id_number] = index
    for number, message in _check_not_registered(first_seen).items():
        add(f"members.{first_seen[number]}.id_number", message)

    heads = [index for index, data in enumerate(members) if data.get("relation") == Relation.HEAD]
    if members and not heads:
        add("members", "请指定一名户主（与户主关系选择“户主”）")
    if len(heads) > 1:
        add("members", "一户只能有一名户主")
        for index in heads[1:]:
            add(f"members.{index}.relation", "一户只能有一名户主")
    if errors:
        raise ValidationError(errors)

    household = Household(
        number=_next_household_number(region),
        region=region,
        region_code=region.code,
        address=address,
        area_type=area_type or region.area_type,
        phone=(phone or "").strip(),
        bank_name=(bank_name or "").strip(),
        bank_account=bank_account,
        account_holder=(account_holder or "").strip(),
        created_by=actor,
    )
    try:
        with transaction.atomic():
            _with_actor(household, actor).save()
    except IntegrityError as error:
        # The sequence serialises registrations of one community; only a household written outside
        # this service (an import) at the same moment can take the number.
        if not _is_unique_violation(error, "number"):
            raise
        raise ValidationError({"region": f"户编号 {household.number} 刚被占用，请重新提交"}) from None
    joined_on = joined_on or today
    head = None
    for index, member in cleaned:
        person = _create_person(
            member,
            household=household,
            joined_on=joined_on,
            actor=actor,
            reason="家庭登记",
            error_key=f"members.{index}.id_number",
        )
        if member.relation == Relation.HEAD:
            head = person
    household.head = head
    _with_actor(household, actor).save(update_fields=["head", "updated_at"])
    return household


@transaction.atomic
def household_update(*, household: Household, data: dict[str, Any], actor) -> Household:
    """Change a household's address, contact and bank details (one history row with the diff)."""
    _require_scope(actor, household.region_code)
    errors: dict[str, str] = {}
    changed = []
    for field in HOUSEHOLD_UPDATABLE_FIELDS:
        if field not in data:
            continue
        value = (data[field] or "").strip()
        if field in MASKED_FIELDS:
            value = unmasked(value, getattr(household, field), field)
            if MASK_CHAR in value:
                errors[field] = MASKED_FIELDS[field]
        if field == "bank_account" and field not in errors:
            value = value.replace(" ", "")
            if value and not value.isdigit():
                errors[field] = "银行账号只能包含数字"
        if field in TEXT_LABELS:
            value, text_error = visible_text(value, TEXT_LABELS[field])
            if text_error:
                errors[field] = text_error
        if field == "address" and not value:
            errors.setdefault(field, "请填写住址")
        if field == "area_type" and value not in AreaType.values:
            errors[field] = "城乡类型无效"
        if getattr(household, field) != value:
            setattr(household, field, value)
            changed.append(field)
    if errors:
        raise ValidationError(errors)
    if changed:
        _with_actor(household, actor).save(update_fields=[*changed, "updated_at"])
    return household


@transaction.atomic
def person_add_to_household(
    *, household: Household, member: dict[str, Any], actor, joined_on: datetime.date | None = None
) -> Person:
    """Register a new person (birth, newly registered member) directly into a household."""
    _require_scope(actor, household.region_code)
    today = _today()
    cleaned, errors = _clean_member(member, today=today)
    if cleaned:
        registered = _check_not_registered([cleaned.id_number])
        if registered:
            errors["id_number"] = registered[cleaned.id_number]
        if cleaned.relation == Relation.HEAD and household.head_id is not None:
            errors["relation"] = "该家庭已有户主"
    joined_on = joined_on or today
    if joined_on > today:
        errors["joined_on"] = "迁入日期不能晚于今天"
    if errors:
        raise ValidationError(errors)
    person = _create_person(cleaned, household=household, joined_on=joined_on, actor=actor, reason="新增成员")
    events.publish_household_change(
        [household.pk], f"新增家庭成员：{person.name}（{joined_on:%Y-%m-%d}）", actor
    )
    if cleaned.relation == Relation.HEAD:
        household.head = person
        _with_actor(household, actor).save(update_fields=["head", "updated_at"])
    return person


@transaction.atomic
def person_move(
    *, person: Person, to_household: Household, relation: str, date: datetime.date, actor, reason: str = ""
) -> Membership:
    """Move a person to another household: close the open membership, open a new one (history is kept)."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    _require_scope(actor, person.region_code or to_household.region_code)
    _require_scope(actor, to_household.region_code)
    errors: dict[str, str] = {}
    if person.is_deceased:
        errors["person"] = "该人员已登记死亡，不能迁移"
    if person.household_id == to_household.pk:
        errors["to_household"] = "该人员已在此家庭中"
    if not to_household.is_active:
        errors["to_household"] = "目标家庭已注销"
    if relation not in Relation.values:
        errors["relation"] = "请选择与户主关系"
    elif relation == Relation.HEAD and to_household.head_id is not None:
        errors["relation"] = "目标家庭已有户主"
    if date is None or date > _today():
        errors["date"] = "迁移日期不能晚于今天"
    current = Membership.objects.select_for_update().filter(person=person, left_on__isnull=True).first()
    if current and date and date < current.joined_on:
        errors["date"] = f"迁移日期不能早于迁入原家庭的日期（{current.joined_on:%Y-%m-%d}）"
    old_household = person.household
    if old_household is not None and old_household.head_id == person.pk:
        others = old_household.members.exclude(pk=person.pk).filter(death_date__isnull=True).exists()
        if others:
            errors["person"] = "该人员是原家庭户主，请先为原家庭变更户主后再迁出"
    if errors:
        raise ValidationError(errors)

    if current:
        current.left_on = date
        current.reason = reason or f"迁入家庭 {to_household.number}"
        current.save(update_fields=["left_on", "reason"])
    membership = Membership.objects.create(
        person=person, household=to_household, relation=relation, joined_on=date, reason=reason or "迁入"
    )
    person.household = to_household
    person.relation = relation
    person.region_code = to_household.region_code
    _with_actor(person, actor).save(update_fields=["household", "relation", "region_code", "updated_at"])
    if old_household is not None and old_household.head_id == person.pk:
        # The last living member left: the household is closed (销户), never deleted.
        old_household.head = None
        old_household.is_active = False
        _with_actor(old_household, actor).save(update_fields=["head", "is_active", "updated_at"])
    if relation == Relation.HEAD:
        to_household.head = person
        _with_actor(to_household, actor).save(update_fields=["head", "updated_at"])
    events.publish_household_change(
        [getattr(old_household, "pk", None), to_household.pk],
        f"家庭成员变动：{person.name}于{date:%Y-%m-%d}迁入家庭 {to_household.number}",
        actor,
    )
    return membership


@transaction.atomic
def person_update(*, person: Person, data: dict[str, Any], actor) -> Person:
    """Correct a person's name, contact, disability and capacity details.

    The ID number, birth date and sex are facts of the document and are not edited here; marital status
    and death go through their life-event services so other bureaus hear about them."""
    _require_scope(actor, person.region_code)
    phone_error = None
    if "phone" in data:
        data = {**data, "phone": unmasked((data["phone"] or "").strip(), person.phone, "phone")}
        phone_error = MASKED_FIELDS["phone"] if MASK_CHAR in data["phone"] else None
    merged = {
        "name": person.name,
        "id_type": person.id_type,
        "id_number": person.id_number,
        "birth_date": person.birth_date,
        "sex": person.sex,
        "relation": person.relation or Relation.OTHER,
        **{f: getattr(person, f) for f in PERSON_DETAIL_FIELDS},
    }
    merged.update({k: v for k, v in data.items() if k in PERSON_UPDATABLE_FIELDS and k != "marital_status"})
    cleaned, errors = _clean_member(merged, today=_today())
    # The document facts are not this form's concern (legacy rows may disagree with today's rules).
    for fact in ("id_type", "id_number", "birth_date", "sex", "relation"):
        errors.pop(fact, None)
    if phone_error:
        errors["phone"] = phone_error
    if errors or cleaned is None:
        raise ValidationError(errors or {"name": "数据无效"})
    values = {"name": cleaned.name, **cleaned.details}
    values.pop("marital_status")
    changed = [f for f, v in values.items() if getattr(person, f) != v]
    for field in changed:
        setattr(person, field, values[field])
    if changed:
        _with_actor(person, actor).save(update_fields=[*changed, "updated_at"])
    conditions = [f for f in changed if f in AMOUNT_CONDITION_FIELDS]
    if conditions and person.household_id is not None:
        labels = "、".join(str(Person._meta.get_field(f).verbose_name) for f in conditions)
        events.publish_household_change([person.household_id], f"{person.name}的{labels}变更", actor)
    return person


# ---------------------------------------------------------------------------------------------------
# Income and assets
# ---------------------------------------------------------------------------------------------------


def _money(value: Any, field: str, errors: dict[str, str]) -> Decimal | None:
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        errors[field] = "请填写有效金额"
        return None
    if not amount.is_finite():
        errors[field] = "请填写有效金额"
        return None
    if amount < 0:
        errors[field] = "金额不能为负数"
    elif amount.as_tuple().exponent < -2:
        errors[field] = "金额最多保留两位小数"
    return amount


HouseholdRecord = TypeVar("HouseholdRecord", IncomeRecord, AssetRecord)


def _household_record_save(
    model: type[HouseholdRecord],
    *,
    household: Household,
    person: Person | None,
    actor,
    errors: dict[str, str],
    **fields,
) -> HouseholdRecord:
    """The end every household record (income, asset) shares: it belongs to the household or to one of
    its members, all the field errors are raised together, and the history names who recorded it."""
    if person is not None and person.household_id != household.pk:
        errors["person"] = "该人员不是本家庭成员"
    if errors:
        raise ValidationError(errors)
    record = model(household=household, person=person, recorded_by=actor, **fields)
    _with_actor(record, actor).save()
    if isinstance(record, IncomeRecord):
        what = f"登记收入：{record.get_kind_display()} {record.monthly_amount:,.2f} 元/月（{record.period_start:%Y-%m-%d}起）"
    else:
        what = f"登记财产：{record.get_kind_display()} {record.value:,.2f} 元（{record.recorded_on:%Y-%m-%d}核查）"
    events.publish_household_change([household.pk], what, actor)
    return record


@transaction.atomic
def income_record_add(
    *,
    household: Household,
    kind: str,
    monthly_amount: Decimal | str,
    period_start: datetime.date,
    actor,
    period_end: datetime.date | None = None,
    person: Person | None = None,
    note: str = "",
) -> IncomeRecord:
    """Record a household's (or one member's) monthly income; its kind decides 计入/不计入/扣减."""
    _require_scope(actor, household.region_code)
    errors: dict[str, str] = {}
    if kind not in IncomeKind.values:
        errors["kind"] = "请选择收入类型"
    amount = _money(monthly_amount, "monthly_amount", errors)
    if period_start is None:
        errors["period_start"] = "请填写起始日期"
    elif period_end is not None and period_end < period_start:
        errors["period_end"] = "截止日期不能早于起始日期"
    return _household_record_save(
        IncomeRecord,
        household=household,
        person=person,
        actor=actor,
        errors=errors,
        kind=kind,
        monthly_amount=amount,
        period_start=period_start,
        period_end=period_end,
        note=(note or "").strip(),
    )


@transaction.atomic
def asset_record_add(
    *,
    household: Household,
    kind: str,
    value: Decimal | str,
    recorded_on: datetime.date,
    actor,
    description: str = "",
    person: Person | None = None,
    for_disability: bool = False,
    registered_capital: Decimal | str | None = None,
    replaces: AssetRecord | None = None,
) -> AssetRecord:
    """Record an asset found at a check (核查). `for_disability` marks a motor vehicle needed for a
    member's disability, `registered_capital` a registered business's capital — what the 财产 limits of
    社会救助 look at (assistance.asset_limits). `replaces` is an earlier record of the same kind and owner
    that this check supersedes (a deposit found again with a new balance): it ends on the new record's
    核查日期, so the asset is counted once."""
    _require_scope(actor, household.region_code)
    errors: dict[str, str] = {}
    if kind not in AssetKind.values:
        errors["kind"] = "请选择财产类型"
    amount = _money(value, "value", errors)
    if for_disability and kind != AssetKind.VEHICLE:
        errors["for_disability"] = "只有机动车可标记为残疾人功能性补偿代步车辆"
    capital = None
    if registered_capital not in (None, ""):
        if kind != AssetKind.BUSINESS:
            errors["registered_capital"] = "只有经营性资产可填写注册资本"
        else:
            capital = _money(registered_capital, "registered_capital", errors)
    if recorded_on is None:
        errors["recorded_on"] = "请填写核查日期"
    elif recorded_on > _today():
        errors["recorded_on"] = "核查日期不能晚于今天"
    previous = None
    if replaces is not None:
        previous = AssetRecord.objects.select_for_update().filter(pk=replaces.pk).first()
        if previous is None or previous.household_id != household.pk:
            errors["replaces"] = "所选财产记录不属于本家庭"
        elif previous.disposed_on is not None:
            errors["replaces"] = f"所选财产记录已于{previous.disposed_on:%Y-%m-%d}处置/注销"
        elif previous.kind != kind or previous.person_id != (person.pk if person else None):
            errors["replaces"] = "只能注销同一所有人的同类财产记录"
        elif recorded_on is not None and recorded_on < previous.recorded_on:
            errors["replaces"] = (
                f"新记录的核查日期不能早于所注销记录的核查日期（{previous.recorded_on:%Y-%m-%d}）"
            )
    record = _household_record_save(
        AssetRecord,
        household=household,
        person=person,
        actor=actor,
        errors=errors,
        kind=kind,
        value=amount,
        recorded_on=recorded_on,
        description=(description or "").strip(),
        for_disability=bool(for_disability),
        registered_capital=capital,
    )
    if previous is not None:
        _asset_end(previous, recorded_on, f"重新核查登记（{recorded_on:%Y-%m-%d}核查的新记录）", actor)
    return record


def _asset_end(record: AssetRecord, on_date: datetime.date, reason: str, actor) -> AssetRecord:
    record.disposed_on = on_date
    record.disposal_reason = reason
    _with_actor(record, actor).save(update_fields=["disposed_on", "disposal_reason"])
    events.publish_household_change(
        [record.household_id],
        f"财产处置/注销：{record.get_kind_display()} {record.value:,.2f} 元"
        f"（{record.recorded_on:%Y-%m-%d}核查，{on_date:%Y-%m-%d}起不再持有：{reason}）",
        actor,
    )
    return record


@transaction.atomic
def asset_record_end(
    *, record: AssetRecord, on_date: datetime.date | None, reason: str, actor
) -> AssetRecord:
    """End an asset record: the household no longer holds it from `on_date` on (sold, closed, spent, or
    re-recorded at a later check). The record stays — the 财产 limits of any day before `on_date` still
    count it — and its history names who ended it and why. A household change (a 变化核查 for a covered
    household)."""
    record = AssetRecord.objects.select_for_update().select_related("household").get(pk=record.pk)
    _require_scope(actor, record.household.region_code)
    errors: dict[str, str] = {}
    reason = (reason or "").strip()
    if record.disposed_on is not None:
        raise ValidationError(f"该财产记录已于{record.disposed_on:%Y-%m-%d}处置/注销，不能重复注销")
    if on_date is None:
        errors["on_date"] = "请填写处置/注销日期"
    elif on_date < record.recorded_on:
        errors["on_date"] = f"处置/注销日期不能早于核查日期（{record.recorded_on:%Y-%m-%d}）"
    elif on_date > _today():
        errors["on_date"] = "处置/注销日期不能晚于今天"
    if not reason:
        errors["reason"] = "请填写处置/注销原因"
    if errors:
        raise ValidationError(errors)
    return _asset_end(record, on_date, reason, actor)


# ---------------------------------------------------------------------------------------------------
# Attachments
# ---------------------------------------------------------------------------------------------------


def _human_size(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


@transaction.atomic
def attachment_add(*, target: Model, doc_type: str, uploaded_file: UploadedFile, actor) -> Attachment:
    """Store a scanned document for a household, person or case (anything with a `region_code`)."""
    region_code = getattr(target, "region_code", "") or ""
    _require_scope(actor, region_code)
    errors: dict[str, str] = {}
    if doc_type not in AttachmentType.values:
        errors["doc_type"] = "请选择材料类型"
    if uploaded_file is None:
        raise ValidationError({"file": "请选择要上传的文件", **errors})
    name = os.path.basename(uploaded_file.name or "")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = [e.lower() for e in settings.ATTACHMENT_ALLOWED_EXTENSIONS]
    if extension not in allowed:
        errors["file"] = f"不支持的文件类型，只能上传 {'、'.join(allowed)} 格式"
    elif uploaded_file.size > settings.ATTACHMENT_MAX_BYTES:
        errors["file"] = (
            f"文件过大（{_human_size(uploaded_file.size)}），不能超过 {_human_size(settings.ATTACHMENT_MAX_BYTES)}"
        )
    elif uploaded_file.size == 0:
        errors["file"] = "文件为空"
    else:
        uploaded_file.seek(0)
        head = uploaded_file.read(16)
        signatures = FILE_SIGNATURES.get(extension)
        if signatures and not head.startswith(signatures):
            errors["file"] = f"文件内容与扩展名 .{extension} 不符，请上传真实的 {extension.upper()} 文件"
    if errors:
        raise ValidationError(errors)

    digest = hashlib.sha256()
    uploaded_file.seek(0)
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    attachment = Attachment(
        target=target,
        region_code=region_code,
        doc_type=doc_type,
        original_name=name[:200],
        size=uploaded_file.size,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
    )
    attachment.file.save(name, uploaded_file, save=False)
    try:
        attachment.save()
    except Exception:
        attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment


@transaction.atomic
def attachment_remove(*, attachment: Attachment, actor) -> Attachment:
    """Void an attachment (作废): it disappears from lists but the file and row stay for the record."""
    _require_scope(actor, attachment.region_code)
    if not attachment.is_removed:
        attachment.is_removed = True
        attachment.save(update_fields=["is_removed"])
    return attachment


# ---------------------------------------------------------------------------------------------------
# Life events: one service call here notifies every bureau that cares (core.registry.events)
# ---------------------------------------------------------------------------------------------------


def _life_event_record(
    person: Person, *, changed: str, kind: str, event_date: datetime.date, data: dict, actor
) -> LifeEvent:
    """Save the person's `changed` field, record the life event and publish it to every bureau that
    subscribes, in the caller's transaction: a bureau's reaction that fails undoes the change too."""
    _with_actor(person, actor).save(update_fields=[changed, "updated_at"])
    event = LifeEvent.objects.create(
        person=person, kind=kind, event_date=event_date, data=data, recorded_by=actor
    )
    events.publish(event, actor)
    return event


@transaction.atomic
def person_record_death(
    *, person: Person, death_date: datetime.date, actor, certificate_no: str = "", note: str = ""
) -> LifeEvent:
    """Record a death: benefits stop from the next month in the bureaus that subscribe to it."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    _require_scope(actor, person.region_code)
    errors: dict[str, str] = {}
    if (
        person.death_date is not None
        or LifeEvent.objects.filter(person=person, kind=LifeEventKind.DEATH).exists()
    ):
        errors["death_date"] = (
            f"该人员已于 {person.death_date:%Y-%m-%d} 登记死亡，不能重复登记"
            if person.death_date
            else "该人员已登记死亡"
        )
    elif death_date is None:
        errors["death_date"] = "请填写死亡日期"
    elif death_date > _today():
        errors["death_date"] = "死亡日期不能晚于今天"
    elif death_date < person.birth_date:
        errors["death_date"] = "死亡日期不能早于出生日期"
    if errors:
        raise ValidationError(errors)
    person.death_date = death_date
    return _life_event_record(
        person,
        changed="death_date",
        kind=LifeEventKind.DEATH,
        event_date=death_date,
        data={
            "certificate_no": certificate_no.strip(),
            "note": note.strip(),
            "household_id": person.household_id,
        },
        actor=actor,
    )


@transaction.atomic
def person_record_marital_change(
    *, person: Person, new_status: str, date: datetime.date, actor, note: str = ""
) -> LifeEvent:
    person = Person.objects.select_for_update().get(pk=person.pk)
    _require_scope(actor, person.region_code)
    errors: dict[str, str] = {}
    if new_status not in MaritalStatus.values:
        errors["new_status"] = "请选择婚姻状况"
    elif new_status == person.marital_status:
        errors["new_status"] = f"婚姻状况已是“{person.get_marital_status_display()}”"
    if date is None or date > _today():
        errors["date"] = "变更日期不能晚于今天"
    elif date < person.birth_date:
        errors["date"] = "变更日期不能早于出生日期"
    if person.is_deceased:
        errors["new_status"] = "该人员已登记死亡"
    if errors:
        raise ValidationError(errors)
    old_status = person.marital_status
    person.marital_status = new_status
    return _life_event_record(
        person,
        changed="marital_status",
        kind=LifeEventKind.MARITAL_CHANGE,
        event_date=date,
        data={"from": old_status, "to": new_status, "note": note.strip()},
        actor=actor,
    )


def _years_before(day: datetime.date, years: int) -> datetime.date:
    """The latest birth date of someone who is `years` old on `day` (born 29 Feb → of age on 1 Mar)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a non-leap target year
        return day.replace(year=day.year - years, day=28)


def _anniversary(birth: datetime.date, years: int) -> datetime.date:
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return datetime.date(birth.year + years, 3, 1)


BIRTHDAY_EVENTS = ((LifeEventKind.TURNED_18, 18), (LifeEventKind.TURNED_80, 80))


@transaction.atomic
def life_events_detect_birthdays(
    *, on_date: datetime.date, actor=None, batch_size: int = 2000
) -> list[LifeEvent]:
    """Create and publish 年满18周岁 / 年满80周岁 for every living person who reached that age up to
    `on_date` and has no such event yet. Set-based and idempotent: a second run finds nothing to do."""
    created: list[LifeEvent] = []
    for kind, years in BIRTHDAY_EVENTS:
        already = LifeEvent.objects.filter(person=OuterRef("pk"), kind=kind)
        due = (
            Person.objects.filter(birth_date__lte=_years_before(on_date, years), death_date__isnull=True)
            .exclude(Exists(already))
            .order_by("pk")
            .values_list("pk", "birth_date")
        )
        batch: list[LifeEvent] = []
        for pk, birth in due.iterator(chunk_size=batch_size):
            batch.append(
                LifeEvent(
                    person_id=pk,
                    kind=kind,
                    event_date=_anniversary(birth, years),
                    data={"age": years},
                    recorded_by=actor,
                )
            )
            if len(batch) >= batch_size:
                created.extend(LifeEvent.objects.bulk_create(batch))
                batch = []
        if batch:
            created.extend(LifeEvent.objects.bulk_create(batch))
    for event in created:
        events.publish(event, actor)
    return created


# ---------------------------------------------------------------------------------------------------
# Personal data
# ---------------------------------------------------------------------------------------------------


def _clean_ip(ip: str | None) -> str | None:
    import ipaddress

    try:
        return str(ipaddress.ip_address((ip or "").strip()))
    except ValueError:
        return None


REVEAL_LABELS = {"id_number": "证件号码", "bank_account": "银行账号", "phone": "联系电话"}


@transaction.atomic
def personal_data_reveal(
    *,
    actor,
    ip: str | None,
    person: Person | None = None,
    household: Household | None = None,
    fields: tuple[str, ...] = (),
    purpose: str = "",
) -> dict[str, str]:
    """Return the unmasked numbers of one person or one household and log the access (个人信息查阅记录).

    `fields` narrows the numbers (default: ID number and phone of a person, bank account and phone of a
    household); `purpose` says where they were shown when it is not the detail page (修改页面)."""
    if not actor.has_perm(FULL_DATA_PERMISSION):
        raise PermissionDenied("您没有查看完整个人信息的权限")
    if (person is None) == (household is None):
        raise ValueError("pass exactly one of person or household")
    record = person or household
    _require_scope(actor, record.region_code)
    names = fields or (("id_number", "phone") if person is not None else ("bank_account", "phone"))
    values = {name: getattr(record, name) for name in names}
    labels = "、".join(REVEAL_LABELS[name] for name in names)
    detail = f"人员 {person.name}" if person else f"家庭 {household.number}"
    AccessLog.objects.create(
        user=actor,
        action=AccessLog.Action.REVEAL,
        person=person,
        household=household,
        fields=labels,
        detail=f"{detail}（{purpose}）" if purpose else detail,
        ip_address=_clean_ip(ip),
        region_code=record.region_code,
    )
    return values
