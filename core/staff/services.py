"""Every write to the staff roster: atomic, scope- and permission-checked, Chinese errors, nothing half-saved.

- `staff_member_create`: a member with their positions (at least one).
- `staff_member_update`: the member's details and any new positions, in one transaction.
- `staff_position_end`: a position's last day and the reason.
- `staff_position_change`: ends a position the day before and opens the new one (a new level, a new role).

The rules "one current 儿童主任 per community, one current 儿童督导员 per street" are checked here, with the
region's row locked so that two caseworkers appointing at once are served one after the other (the second
is told who holds the post), and by conditional unique constraints in the database for any other writer."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.registry.choices import RegionLevel
from core.registry.crypto import id_number_q, normalise_id_number
from core.registry.idnumbers import IdNumberError, parse_ric
from core.registry.masking import MASK_CHAR, unmasked
from core.registry.models import Region
from core.registry.querysets import user_scope_prefix
from core.validation import date_problem, has_control_characters

from . import access
from .choices import ONE_PER_REGION, ROLE_QUALIFICATIONS, StaffRole
from .models import StaffMember, StaffPosition

ONE_DAY = datetime.timedelta(days=1)
MEMBER_LEVELS = (RegionLevel.DISTRICT, RegionLevel.STREET, RegionLevel.COMMUNITY)
LEVEL_OF = {"community": RegionLevel.COMMUNITY, "street": RegionLevel.STREET}
LEVEL_NAME = {RegionLevel.COMMUNITY: "社区/村", RegionLevel.STREET: "街道/乡镇"}
MEMBER_FIELDS = ("name", "id_number", "sex", "phone", "region", "workplace_name", "note")
CONSTRAINT_MESSAGES = {
    "staff_one_current_child_director": "该社区/村已有现任儿童主任，请先结束其职务",
    "staff_one_current_child_supervisor": "该街道/乡镇已有现任儿童督导员，请先结束其职务",
    "staff_one_current_role": "该人员已担任该岗位",
    "staff_member_id_hash_unique": "该身份证号码已在队伍名册中登记",
}


def cn_date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _today() -> datetime.date:
    return timezone.localdate()


def _in_scope(actor, region_code: str) -> bool:
    prefix = user_scope_prefix(actor)
    return prefix is not None and region_code.startswith(prefix)


def _require_scope(actor, region_code: str) -> None:
    # actor None: the system itself (demo data, imports), as in core.registry.services.
    if actor is not None and not _in_scope(actor, region_code):
        raise PermissionDenied("该记录不在您的管辖范围内")


def _text(value: Any, label: str, max_length: int, errors: dict, key: str, *, required: bool = False) -> str:
    text = ("" if value is None else str(value)).strip()
    if required and not text:
        errors[key] = f"请填写{label}"
    elif has_control_characters(text):
        errors[key] = f"{label}含有无效字符"
    elif len(text) > max_length:
        errors[key] = f"{label}不能超过{max_length}个字符"
    return text


def _day(value: datetime.date | None, label: str, errors: dict, key: str, *, required: bool = True):
    if value is None:
        if required:
            errors[key] = f"请填写{label}"
        return None
    if problem := date_problem(value):
        errors[key] = problem
    elif value > _today():
        errors[key] = f"{label}不能晚于今天"
    return value


def _integrity_error(exc: IntegrityError) -> ValidationError:
    text = str(exc)
    for name, message in CONSTRAINT_MESSAGES.items():
        if name in text:
            return ValidationError(message)
    return ValidationError("保存失败：数据不符合名册的约束，请核对后重试")


# -------------------------------------------------------------------------------------------------- members


def _member_data(data: dict, errors: dict, *, stored: StaffMember | None = None) -> dict:
    """The member's fields, cleaned; problems go into `errors` keyed by field."""
    clean: dict[str, Any] = {}
    clean["name"] = _text(data.get("name"), "姓名", 50, errors, "name", required=True)
    id_number = normalise_id_number(data.get("id_number"))
    phone = (data.get("phone") or "").strip()
    if stored is not None:
        id_number = unmasked(id_number, stored.id_number, "id_number")
        phone = unmasked(phone, stored.phone, "phone")
    sex = data.get("sex") or ""
    if id_number:
        if MASK_CHAR in id_number:
            errors["id_number"] = "身份证号码不能含有“*”，请填写完整号码"
        else:
            try:
                info = parse_ric(id_number, today=_today())
            except IdNumberError as exc:
                errors["id_number"] = str(exc)
            else:
                id_number, sex = info.number, info.sex
    if sex not in ("", "M", "F"):
        errors["sex"] = "性别无效"
    clean["id_number"], clean["sex"] = id_number, sex
    if MASK_CHAR in phone:
        errors["phone"] = "联系电话不能含有“*”，请填写完整号码"
    elif phone and not phone.replace("-", "").isdigit():
        errors["phone"] = "联系电话只能包含数字和“-”"
    clean["phone"] = _text(phone, "联系电话", 20, errors, "phone")
    region = data.get("region")
    if not isinstance(region, Region):
        errors["region"] = "请选择所属社区/街道"
    elif region.level not in MEMBER_LEVELS or not region.is_active:
        errors["region"] = "所属区划须为有效的社区/村、街道/乡镇或区"
    clean["region"] = region
    clean["workplace_name"] = _text(data.get("workplace_name"), "工作单位", 100, errors, "workplace_name")
    clean["note"] = _text(data.get("note"), "备注", 200, errors, "note")
    return clean


def _check_id_number_free(id_number: str, errors: dict, *, exclude: int | None = None) -> None:
    if not id_number or "id_number" in errors:
        return
    others = StaffMember.objects.filter(id_number_q(id_number))
    if exclude is not None:
        others = others.exclude(pk=exclude)
    other = others.only("name", "region_code").first()
    if other is not None:
        errors["id_number"] = f"该身份证号码已在队伍名册中登记（{other.name}），请在原记录中增加职务"


# ------------------------------------------------------------------------------------------------ positions


def _position_data(row: dict, region: Region | None, actor, errors: dict, key: str) -> dict:
    """One position's fields, cleaned and checked against its role; errors under "<key>.<field>"."""
    clean: dict[str, Any] = {}
    role = row.get("role") or ""
    if role not in StaffRole.values:
        errors[f"{key}.role"] = "请选择岗位"
        return clean
    label = StaffRole(role).label
    level = region.level if isinstance(region, Region) else None
    if actor is not None and level is not None and not access.may_manage(actor, role, level):
        errors[f"{key}.role"] = f"您无权登记{label}（见“队伍建设”的分工说明）"
    needed = ONE_PER_REGION.get(role)
    if needed and level is not None and level != LEVEL_OF[needed]:
        errors[f"{key}.role"] = (
            f"{label}须登记在{LEVEL_NAME[LEVEL_OF[needed]]}，请将所属区划选为{LEVEL_NAME[LEVEL_OF[needed]]}"
        )
    allowed = ROLE_QUALIFICATIONS.get(role, ())
    qualification = row.get("qualification") or ""
    cert_number = _text(row.get("cert_number"), "证书编号", 40, errors, f"{key}.cert_number")
    cert_date = row.get("cert_date")
    if role == StaffRole.SOCIAL_WORKER:
        if qualification not in allowed:
            errors[f"{key}.qualification"] = (
                "持证社工须选择职业资格等级（助理社会工作师/社会工作师/高级社会工作师）"
            )
        if not cert_number:
            errors[f"{key}.cert_number"] = "持证社工须填写职业资格证书编号"
        if cert_date is None:
            errors[f"{key}.cert_date"] = "持证社工须填写发证日期"
    elif role == StaffRole.CARE_WORKER:
        if qualification and qualification not in allowed:
            errors[f"{key}.qualification"] = "养老护理员的等级须为职业技能等级（初级工至高级技师）"
        if qualification and not cert_number:
            errors[f"{key}.cert_number"] = "有职业技能等级的养老护理员须填写证书编号"
        if (cert_number or cert_date) and not qualification:
            errors[f"{key}.qualification"] = "填写了证书，请选择职业技能等级"
    else:
        if qualification:
            errors[f"{key}.qualification"] = f"{label}不登记资格等级"
        if cert_number or cert_date:
            errors[f"{key}.cert_number"] = f"{label}不登记证书；持证社工或养老护理员请另行登记该岗位"
            cert_number, cert_date = "", None
    if cert_date is not None:
        _day(cert_date, "发证日期", errors, f"{key}.cert_date")
    valid_from = _day(row.get("valid_from"), "任职日期", errors, f"{key}.valid_from")
    if cert_date and valid_from and role == StaffRole.SOCIAL_WORKER and cert_date > valid_from:
        errors[f"{key}.valid_from"] = "持证社工的任职日期不能早于发证日期"
    clean.update(
        role=role,
        qualification=qualification,
        cert_number=cert_number,
        cert_date=cert_date,
        valid_from=valid_from,
    )
    return clean


def _lock_regions(codes: set[str]) -> None:
    """Serialise appointments to one-per-region posts: the regions' rows, locked in code order."""
    if codes:
        list(
            Region.objects.select_for_update()
            .filter(code__in=sorted(codes))
            .order_by("code")
            .values_list("id")
        )


def _check_positions_free(
    positions: list[dict], member: StaffMember | None, region_code: str, errors: dict
) -> None:
    """Dated rules against what is stored: a member holds a role once at a time, and a 儿童主任/儿童督导员
    post is held by one person at a time (no open holder, no overlap with an earlier term)."""
    seen: set[str] = set()
    for i, row in enumerate(positions):
        role, valid_from = row.get("role"), row.get("valid_from")
        if not role or valid_from is None:
            continue
        key = f"positions.{i}"
        label = StaffRole(role).label
        if role in seen:
            errors[f"{key}.role"] = f"同一人员只能登记一个{label}岗位"
            continue
        seen.add(role)
        if member is not None:
            own = StaffPosition.objects.filter(member=member, role=role).filter(
                Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from)
            )
            held = own.order_by("-valid_from").first()
            if held is not None and held.valid_to is None:
                errors[f"{key}.role"] = (
                    f"该人员现任{label}（自{cn_date(held.valid_from)}起）；等级或证书变化请使用“变动”"
                )
                continue
            if held is not None:
                errors[f"{key}.valid_from"] = (
                    f"该人员曾任{label}至{cn_date(held.valid_to)}，任职日期须晚于该日"
                )
                continue
        if role in ONE_PER_REGION:
            other = (
                StaffPosition.objects.filter(region_code=region_code, role=role)
                .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from))
                .select_related("member")
                .order_by("-valid_from")
                .first()
            )
            if other is not None and other.valid_to is None:
                errors[f"{key}.role"] = (
                    f"该{LEVEL_NAME[LEVEL_OF[ONE_PER_REGION[role]]]}现任{label}为{other.member.name}"
                    f"（自{cn_date(other.valid_from)}起），每个{LEVEL_NAME[LEVEL_OF[ONE_PER_REGION[role]]]}只设一名，请先结束其职务"
                )
            elif other is not None:
                errors[f"{key}.valid_from"] = (
                    f"与{other.member.name}的{label}任期（至{cn_date(other.valid_to)}）重叠，任职日期须晚于该日"
                )


def _create_positions(member: StaffMember, positions: list[dict], actor) -> list[StaffPosition]:
    rows = [
        StaffPosition(
            member=member,
            region_code=member.region_code,
            created_by=actor,
            **{f: row[f] for f in ("role", "qualification", "cert_number", "cert_date", "valid_from")},
        )
        for row in positions
    ]
    for row in rows:
        row.save()
    return rows


def _one_per_region_codes(positions: list[dict], region_code: str) -> set[str]:
    return {region_code} if any(p.get("role") in ONE_PER_REGION for p in positions) else set()


@transaction.atomic
def staff_member_create(*, actor, positions: list[dict], **data) -> StaffMember:
    """Put a person on the roster with their positions (at least one). Refused with Chinese errors keyed by
    field ("positions.<i>.<field>" for a position), nothing saved; outside the actor's scope: PermissionDenied."""
    errors: dict[str, str] = {}
    clean = _member_data(data, errors)
    region = clean["region"]
    if isinstance(region, Region):
        _require_scope(actor, region.code)
    if not positions:
        errors["positions"] = "请至少登记一个岗位"
    rows = [_position_data(row, region, actor, errors, f"positions.{i}") for i, row in enumerate(positions)]
    if errors:
        raise ValidationError(errors)
    _lock_regions(_one_per_region_codes(rows, region.code))
    _check_id_number_free(clean["id_number"], errors)
    _check_positions_free(rows, None, region.code, errors)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            member = StaffMember.objects.create(**clean, region_code=region.code, created_by=actor)
            _create_positions(member, rows, actor)
    except IntegrityError as exc:
        raise _integrity_error(exc) from None
    return member


def _lock_member(member: StaffMember) -> StaffMember:
    return StaffMember.objects.select_for_update().select_related("region").get(pk=member.pk)


def _member_roles(member: StaffMember) -> list[str]:
    return list(member.positions.values_list("role", flat=True).distinct())


@transaction.atomic
def staff_member_update(
    *, member: StaffMember, actor, data: dict, new_positions: list[dict] = ()
) -> StaffMember:
    """Change a member's details and add new positions. The ID number and phone may come back masked
    (kept as stored). Moving a member who holds a current position to another region is refused: end the
    positions first, so each term stays with the region it was held in."""
    member = _lock_member(member)
    _require_scope(actor, member.region_code)
    new_positions = list(new_positions)
    roles = _member_roles(member)
    if actor is not None and not access.may_edit_member(actor, member, roles) and not new_positions:
        raise PermissionDenied("您无权修改该人员的信息（见“队伍建设”的分工说明）")
    errors: dict[str, str] = {}
    clean = _member_data({**{f: getattr(member, f) for f in MEMBER_FIELDS}, **data}, errors, stored=member)
    region = clean["region"]
    if isinstance(region, Region) and region.pk != member.region_id:
        _require_scope(actor, region.code)
        if member.positions.filter(valid_to__isnull=True).exists():
            errors["region"] = "该人员有现任职务，调整所属区划请先结束其现任职务，再在新的区划登记任职"
    rows = [
        _position_data(row, region, actor, errors, f"positions.{i}") for i, row in enumerate(new_positions)
    ]
    all_roles = roles + [r.get("role") for r in rows if r.get("role")]
    if actor is not None and not access.may_edit_member(actor, member, all_roles):
        raise PermissionDenied("您无权修改该人员的信息（见“队伍建设”的分工说明）")
    if errors:
        raise ValidationError(errors)
    _lock_regions(_one_per_region_codes(rows, region.code))
    _check_id_number_free(clean["id_number"], errors, exclude=member.pk)
    _check_positions_free(rows, member, region.code, errors)
    if errors:
        raise ValidationError(errors)
    for field, value in clean.items():
        setattr(member, field, value)
    member.region_code = region.code
    try:
        with transaction.atomic():
            member.save()
            _create_positions(member, rows, actor)
    except IntegrityError as exc:
        raise _integrity_error(exc) from None
    return member


def _lock_position(position: StaffPosition, actor) -> StaffPosition:
    position = (
        StaffPosition.objects.select_for_update(of=("self",))
        .select_related("member", "member__region")
        .get(pk=position.pk)
    )
    _require_scope(actor, position.region_code)
    if actor is not None and not access.may_manage(actor, position.role, position.member.region.level):
        raise PermissionDenied(
            f"您无权办理{position.get_role_display()}的离任或变动（见“队伍建设”的分工说明）"
        )
    return position


def _end(position: StaffPosition, valid_to: datetime.date, reason: str, actor) -> None:
    position.valid_to = valid_to
    position.end_reason = reason
    position.ended_by = actor
    position.ended_at = timezone.now()
    position.save(update_fields=["valid_to", "end_reason", "ended_by", "ended_at"])


@transaction.atomic
def staff_position_end(
    *, position: StaffPosition, actor, valid_to: datetime.date | None, reason: str
) -> StaffPosition:
    """End a current position on `valid_to` (its last day, not later than today) for `reason`."""
    position = _lock_position(position, actor)
    errors: dict[str, str] = {}
    if position.valid_to is not None:
        raise ValidationError(f"该职务已于{cn_date(position.valid_to)}结束")
    valid_to = _day(valid_to, "离任日期", errors, "valid_to")
    if valid_to is not None and "valid_to" not in errors and valid_to < position.valid_from:
        errors["valid_to"] = f"离任日期不能早于任职日期（{cn_date(position.valid_from)}）"
    reason = _text(reason, "离任原因", 200, errors, "reason", required=True)
    if errors:
        raise ValidationError(errors)
    _end(position, valid_to, reason, actor)
    return position


@transaction.atomic
def staff_position_change(
    *,
    position: StaffPosition,
    actor,
    valid_from: datetime.date | None,
    role: str,
    qualification: str = "",
    cert_number: str = "",
    cert_date: datetime.date | None = None,
    reason: str = "",
) -> StaffPosition:
    """Change a current position from `valid_from`: the old one ends the day before, the new one opens
    (a new qualification level, a new certificate, another role). Returns the new position."""
    position = _lock_position(position, actor)
    if position.valid_to is not None:
        raise ValidationError(f"该职务已于{cn_date(position.valid_to)}结束，不能变动")
    member = position.member
    errors: dict[str, str] = {}
    row = {"role": role, "qualification": qualification, "cert_number": cert_number, "cert_date": cert_date}
    new = _position_data({**row, "valid_from": valid_from}, member.region, actor, errors, "new")
    errors = {k.removeprefix("new."): v for k, v in errors.items()}
    reason = _text(reason, "变动原因", 200, errors, "reason")
    if new.get("valid_from") and "valid_from" not in errors and new["valid_from"] <= position.valid_from:
        errors["valid_from"] = (
            f"变动日期须晚于原任职日期（{cn_date(position.valid_from)}）：原职务截止到变动日期的前一天"
        )
    if not errors and all(
        new[f] == getattr(position, f) for f in ("role", "qualification", "cert_number", "cert_date")
    ):
        errors["role"] = "变动后的岗位、等级和证书与现任职务相同，无需变动"
    if errors:
        raise ValidationError(errors)
    _lock_regions(_one_per_region_codes([new], position.region_code))
    label = StaffPosition(role=new["role"], qualification=new["qualification"]).label
    _end(position, new["valid_from"] - ONE_DAY, f"变动为{label}" + (f"：{reason}" if reason else ""), actor)
    _check_positions_free([new], member, position.region_code, errors)
    if errors:
        raise ValidationError({k.removeprefix("positions.0."): v for k, v in errors.items()})
    try:
        with transaction.atomic():
            (created,) = _create_positions(member, [new], actor)
    except IntegrityError as exc:
        raise _integrity_error(exc) from None
    return created
