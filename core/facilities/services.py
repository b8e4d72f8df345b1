"""Every write of the facilities register: register and change a facility, record an inspection with its
hazards, record a rectification and a re-inspection, attach a photo. Each is atomic and refuses bad input
with a ValidationError in Chinese (keyed by field; a hazard row's as "hazards.<i>.<field>"), saving nothing.

Who may write is decided here too (`edit_refusal`): the permission, the region scope and — for district
staff — the section of the facility's kind (see FacilitiesConfig's docstring)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from stdnum.cn import uscc as uscc_check
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import ValidationError as StdnumError

from core.accounts.models import Role, User
from core.accounts.sections import has_section_role, section_name
from core.constraints import violated
from core.registry.choices import RegionLevel
from core.registry.masking import MASK_CHAR, unmasked
from core.registry.models import Attachment, Region
from core.registry.querysets import user_scope_prefix
from core.registry.services import attachment_add
from core.validation import date_problem

from .choices import (
    BED_FIELDS,
    MIN_INSPECTORS,
    RESIDENT_FIELDS,
    HazardState,
    InspectionKind,
    OperatorType,
    RatingLevel,
    ReinspectionResult,
    Severity,
)
from .models import Facility, FacilityKind, Hazard, Inspection

# The roles that edit facilities: the general community and street roles in their scope, the district
# roles in the kind's section (core.accounts.sections.has_section_role decides which applies).
EDIT_ROLES = (Role.COMMUNITY_CASEWORKER, Role.STREET_REVIEWER, Role.SECTION_CASEWORKER, Role.SECTION_CHIEF)

OUT_OF_SCOPE = "该设施不在您的管辖范围内"
# A bank account number (银行结算账户): digits only, as long as Chinese banks issue them.
ACCOUNT_DIGITS = (12, 30)
DUPLICATE_NAME = "该街道/社区已有同名的在用{kind}"


def _today() -> datetime.date:
    return timezone.localdate()


def _in_scope(user, region_code: str) -> bool:
    prefix = user_scope_prefix(user)
    return prefix is not None and region_code.startswith(prefix)


def edit_refusal(user, kind: FacilityKind, *, permission: str = "facilities.change_facility") -> str:
    """Why `user` may not edit facilities of `kind` ("" when they may): the permission, then the section."""
    if not user.has_perm(permission):
        return "您没有维护服务设施的权限"
    roles = [role.value for role in EDIT_ROLES]
    if not has_section_role(user, kind.section_code, *roles):
        return f"{kind.name}由{section_name(kind.section_code)}维护，您不能修改"
    return ""


def _require_edit(user, facility_or_kind, *, permission: str = "facilities.change_facility") -> None:
    kind = facility_or_kind.kind if isinstance(facility_or_kind, Facility) else facility_or_kind
    refusal = edit_refusal(user, kind, permission=permission)
    if refusal:
        raise PermissionDenied(refusal)
    if isinstance(facility_or_kind, Facility) and not _in_scope(user, facility_or_kind.region_code):
        raise PermissionDenied(OUT_OF_SCOPE)


def _require_kind(user, kind: FacilityKind) -> None:
    """The kind chosen on a form: another section's kind is a field error, not a refused page."""
    refusal = edit_refusal(user, kind)
    if refusal:
        raise ValidationError({"kind": refusal})


def _with_actor(instance, actor):
    """simple_history records who made the change also outside a request (tests, shell, seed_demo)."""
    if actor is not None and getattr(actor, "pk", None):
        instance._history_user = actor
    return instance


# --------------------------------------------------------------------------------------------------- parsing


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value).strip()


def _count(data, key: str, label: str, errors: dict[str, str], *, optional: bool = False) -> int | None:
    value = data.get(key)
    if value is None or value == "":
        return None if optional else 0
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors[key] = f"{label}应为整数"
        return None
    if number < 0:
        errors[key] = f"{label}不能为负数"
        return None
    if number > 100_000:
        errors[key] = f"{label}过大，请核对"
        return None
    return number


def _area(data, errors: dict[str, str]) -> Decimal | None:
    value = data.get("floor_area")
    if value is None or value == "":
        return None
    try:
        area = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors["floor_area"] = "建筑面积应为数字"
        return None
    if not area.is_finite():
        errors["floor_area"] = "建筑面积应为数字"
    elif area < 0:
        errors["floor_area"] = "建筑面积不能为负数"
    elif area >= Decimal("100000000") or area != area.quantize(Decimal("0.01")):
        errors["floor_area"] = "建筑面积最多保留两位小数，且不超过一亿平方米"
    else:
        return area
    return None


def _date(
    data, key: str, label: str, errors: dict[str, str], *, required: bool = False
) -> datetime.date | None:
    value = data.get(key)
    if value in (None, ""):
        if required:
            errors[key] = f"请填写{label}"
        return None
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value.strip())
        except ValueError:
            errors[key] = f"{label}格式不正确（如 2026-03-01）"
            return None
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        errors[key] = f"{label}格式不正确（如 2026-03-01）"
        return None
    problem = date_problem(value)
    if problem:
        errors[key] = problem
        return None
    return value


def _not_future(day: datetime.date | None, key: str, label: str, errors: dict[str, str]) -> None:
    if day is not None and key not in errors and day > _today():
        errors[key] = f"{label}不能晚于今天"


def clean_uscc(value: str) -> str:
    """统一社会信用代码 (GB 32100-2015): 18 characters of its 31-symbol set and the check character."""
    code = (value or "").strip().upper()
    if not code:
        return ""
    try:
        return uscc_check.validate(code)
    except InvalidChecksum:
        raise ValidationError("统一社会信用代码校验位不正确，请核对") from None
    except StdnumError:
        raise ValidationError("统一社会信用代码应为18位数字或大写字母（不含 I、O、Z、S、V）") from None


# --------------------------------------------------------------------------------------------------- facilities


def _kind(data, errors: dict[str, str]) -> FacilityKind | None:
    value = data.get("kind")
    if isinstance(value, FacilityKind):
        return value
    kind = FacilityKind.objects.filter(code=_text(data, "kind"), is_active=True).first()
    if kind is None:
        errors["kind"] = "未知的设施类别，请从列表中选择"
    return kind


def _region(data, actor, errors: dict[str, str]) -> Region | None:
    value = data.get("region")
    code = value.code if isinstance(value, Region) else _text(data, "region")
    region = Region.objects.filter(
        code=code, is_active=True, level__in=[RegionLevel.STREET, RegionLevel.COMMUNITY]
    ).first()
    if region is None:
        errors["region"] = "请选择设施所在的街道或社区"
    elif not _in_scope(actor, region.code):
        errors["region"] = "所选街道/社区不在您的管辖范围内"
        return None
    return region


def _bank_account(data, stored: Facility | None, fields: dict[str, Any], errors: dict[str, str]) -> None:
    """开户银行、银行账号、账户名称 of the institution: all three or none. The edit form shows a stored number
    masked; the mask coming back unchanged keeps it (masking.unmasked), a mask changed in part is refused.
    A change that carries none of the three keys leaves the stored account as it is (never wiped unseen)."""
    keys = ("bank_name", "bank_account", "account_name")
    if stored is not None and not any(key in data for key in keys):
        fields.update({key: getattr(stored, key) for key in keys})
        return
    fields["bank_name"] = _text(data, "bank_name")
    fields["account_name"] = _text(data, "account_name")
    account = _text(data, "bank_account")
    if stored is not None:
        account = unmasked(account, stored.bank_account, "bank_account")
    account = account.replace(" ", "")
    fields["bank_account"] = account
    low, high = ACCOUNT_DIGITS
    if MASK_CHAR in account:
        errors["bank_account"] = "银行账号不能含有“*”，请填写完整账号"
    elif account and not account.isdigit():
        errors["bank_account"] = "银行账号只能包含数字"
    elif account and not low <= len(account) <= high:
        errors["bank_account"] = f"银行账号应为{low}至{high}位数字，当前{len(account)}位"
    for key, label, max_length in (("bank_name", "开户银行", 60), ("account_name", "账户名称", 100)):
        if len(fields[key]) > max_length:
            errors[key] = f"{label}不能超过{max_length}个字"
        elif account and not fields[key]:
            errors[key] = f"填写银行账号时请同时填写{label}"
    if not account and "bank_account" not in errors and (fields["bank_name"] or fields["account_name"]):
        errors["bank_account"] = "填写了开户银行或账户名称，请同时填写银行账号"


def _facility_fields(data: Mapping[str, Any], actor, stored: Facility | None = None) -> dict[str, Any]:
    """The facility's fields from `data`, every rule checked; a ValidationError with all problems at once.
    `stored` is the facility being changed (its bank account may come back masked)."""
    errors: dict[str, str] = {}
    kind = _kind(data, errors)
    region = _region(data, actor, errors)
    fields: dict[str, Any] = {"kind": kind, "region": region}
    for key, label, max_length in (("name", "设施名称", 100), ("address", "地址", 200)):
        fields[key] = _text(data, key)
        if not fields[key]:
            errors[key] = f"请填写{label}"
        elif len(fields[key]) > max_length:
            errors[key] = f"{label}不能超过{max_length}个字"
    for key, max_length in (("operator_name", 100), ("licence_no", 50)):
        fields[key] = _text(data, key)[:max_length]
    fields["operator_type"] = _text(data, "operator_type")
    if fields["operator_type"] not in OperatorType.values:
        errors["operator_type"] = "请选择运营性质（公办、公建民营或民办）"
    try:
        fields["uscc"] = clean_uscc(_text(data, "uscc"))
    except ValidationError as exc:
        errors["uscc"] = exc.messages[0]
    fields["licensed_on"] = _date(data, "licensed_on", "许可/备案日期", errors)
    _not_future(fields["licensed_on"], "licensed_on", "许可/备案日期", errors)
    fields["capacity"] = _count(data, "capacity", "服务容量", errors, optional=True)
    fields["floor_area"] = _area(data, errors)
    for key, label in BED_FIELDS + tuple((k, f"{v}人数") for k, v in RESIDENT_FIELDS):
        fields[key] = _count(data, key, label, errors)
    if kind is not None and not kind.has_beds:
        for key, _label in BED_FIELDS + RESIDENT_FIELDS:
            if fields.get(key):
                errors[key] = f"{kind.name}不设床位，不填写床位和在住人数"
    capacity = fields["capacity"]
    if capacity is not None:
        for group, what in ((BED_FIELDS, "各类床位合计"), (RESIDENT_FIELDS, "在住人数合计")):
            total = sum(fields.get(key) or 0 for key, _ in group)
            if total > capacity and "capacity" not in errors and not any(key in errors for key, _ in group):
                errors["capacity"] = f"{what}（{total}）超过服务容量（{capacity}）"
    _rating(data, fields, errors)
    _bank_account(data, stored, fields, errors)
    if errors:
        raise ValidationError(errors)
    return fields


def _rating(data, fields: dict[str, Any], errors: dict[str, str]) -> None:
    level = data.get("rating_level")
    if level in (None, ""):
        fields["rating_level"] = None
    else:
        try:
            fields["rating_level"] = int(level)
        except (TypeError, ValueError):
            fields["rating_level"] = None
        if fields["rating_level"] not in RatingLevel.values:
            errors["rating_level"] = "等级应为一级至五级"
    fields["rated_on"] = _date(data, "rated_on", "评定日期", errors)
    fields["rating_valid_until"] = _date(data, "rating_valid_until", "等级有效期", errors)
    _not_future(fields["rated_on"], "rated_on", "评定日期", errors)
    if fields["rating_level"] is None and "rating_level" not in errors:
        if fields["rated_on"] or fields["rating_valid_until"]:
            errors["rating_level"] = "填写了评定日期，请选择等级"
    elif fields["rating_level"] is not None and fields["rated_on"] is None and "rated_on" not in errors:
        errors["rated_on"] = "请填写评定日期"
    rated, until = fields["rated_on"], fields["rating_valid_until"]
    if rated and until and until <= rated:
        errors["rating_valid_until"] = "等级有效期应晚于评定日期"


def _save_facility(facility: Facility) -> None:
    """Save; a concurrent registration of the same name loses on the constraint with the service's message."""
    duplicate = (
        Facility.objects.filter(
            region=facility.region, kind=facility.kind, name=facility.name, is_active=True
        )
        .exclude(pk=facility.pk)
        .exists()
    )
    message = {"name": DUPLICATE_NAME.format(kind=facility.kind.name)}
    if facility.is_active and duplicate:
        raise ValidationError(message)
    try:
        with transaction.atomic():
            facility.save()
    except IntegrityError as exc:
        if violated(exc, Facility, "facility_one_active_per_name"):
            raise ValidationError(message) from None
        raise


@transaction.atomic
def facility_create(*, actor, data: Mapping[str, Any]) -> Facility:
    """登记服务设施."""
    if not actor.has_perm("facilities.add_facility"):
        raise PermissionDenied("您没有登记服务设施的权限")
    fields = _facility_fields(data, actor)
    _require_kind(actor, fields["kind"])
    facility = Facility(**fields, region_code=fields["region"].code, created_by=actor)
    _save_facility(_with_actor(facility, actor))
    return facility


@transaction.atomic
def facility_update(*, facility: Facility, actor, data: Mapping[str, Any]) -> Facility:
    """修改设施信息 (and 停用/启用 with `is_active`); the history keeps every earlier version."""
    facility = Facility.objects.select_for_update().select_related("kind").get(pk=facility.pk)
    _require_edit(actor, facility)
    fields = _facility_fields(data, actor, stored=facility)
    if fields["kind"] != facility.kind:
        _require_kind(actor, fields["kind"])
    for key, value in fields.items():
        setattr(facility, key, value)
    facility.region_code = fields["region"].code
    if "is_active" in data:
        facility.is_active = bool(data["is_active"])
    _save_facility(_with_actor(facility, actor))
    return facility


# --------------------------------------------------------------------------------------------------- inspections


def inspector_candidates(facility: Facility):
    """Active staff whose scope holds the facility (of its community, street, district, city or province)
    and whose role inspects facilities: the choices of the inspection form."""
    code = facility.region_code
    ancestors = {code, code[:9] + "000", code[:6] + "000000", code[:4] + "00000000", code[:2] + "0000000000"}
    roles = [role.value for role in EDIT_ROLES]
    return (
        User.objects.filter(is_active=True, region__code__in=ancestors, groups__name__in=roles)
        .distinct()
        .order_by("region__code", "username")
    )


def _inspectors(
    facility: Facility, inspectors: Iterable[Any], kind: str, errors: dict[str, str]
) -> list[User]:
    ids = []
    for value in inspectors or ():
        pk = getattr(value, "pk", value)
        if pk not in ids:
            ids.append(pk)
    try:
        users = list(User.objects.filter(pk__in=ids).select_related("region"))
    except (TypeError, ValueError):
        errors["inspectors"] = "检查人员无效"
        return []
    if len(users) != len(ids):
        errors["inspectors"] = "检查人员无效"
        return []
    outside = [u for u in users if not u.is_active or not _in_scope(u, facility.region_code)]
    if outside:
        names = "、".join(str(u) for u in outside)
        errors["inspectors"] = f"检查人员{names}不在该设施的管辖范围内"
        return []
    needed = MIN_INSPECTORS.get(kind)
    if needed and len(users) < needed:
        errors["inspectors"] = (
            f"{InspectionKind(kind).label}应由至少{needed}名检查人员进行，当前{len(users)}名"
            if needed > 1
            else "请选择检查人员"
        )
    return users


def _hazard_rows(
    rows: Iterable[Mapping[str, Any]], inspected_on: datetime.date | None, errors: dict[str, str]
) -> list[dict[str, Any]]:
    clean = []
    for index, row in enumerate(rows or ()):
        row_errors: dict[str, str] = {}
        item = {
            "description": _text(row, "description"),
            "severity": _text(row, "severity"),
            "responsible_person": _text(row, "responsible_person"),
            "deadline": _date(row, "deadline", "整改期限", row_errors, required=True),
        }
        if not item["description"]:
            row_errors["description"] = "请填写隐患描述"
        if item["severity"] not in Severity.values:
            row_errors["severity"] = "请选择隐患等级（一般、较大、重大）"
        if not item["responsible_person"]:
            row_errors["responsible_person"] = "请填写整改责任人"
        elif len(item["responsible_person"]) > 50:
            row_errors["responsible_person"] = "整改责任人不能超过50个字"
        if item["deadline"] and inspected_on and item["deadline"] < inspected_on:
            row_errors["deadline"] = "整改期限不能早于检查日期"
        errors.update({f"hazards.{index}.{key}": message for key, message in row_errors.items()})
        clean.append(item)
    return clean


@transaction.atomic
def inspection_record(
    *,
    facility: Facility,
    actor,
    inspected_on: datetime.date | str | None,
    kind: str,
    inspectors: Iterable[Any],
    findings: str = "",
    hazards: Iterable[Mapping[str, Any]] = (),
) -> Inspection:
    """录入安全检查 with the hazards it found, all or nothing."""
    facility = Facility.objects.select_related("kind").get(pk=facility.pk)
    _require_edit(actor, facility, permission="facilities.add_inspection")
    errors: dict[str, str] = {}
    if not facility.is_active:
        raise ValidationError("该设施已停用，不能录入检查")
    day = _date({"inspected_on": inspected_on}, "inspected_on", "检查日期", errors, required=True)
    _not_future(day, "inspected_on", "检查日期", errors)
    if kind not in InspectionKind.values:
        errors["kind"] = "未知的检查类型，请选择自查、区级检查或专项检查"
    users = _inspectors(facility, inspectors, kind, errors)
    rows = _hazard_rows(hazards, day, errors)
    if errors:
        raise ValidationError(errors)
    inspection = Inspection.objects.create(
        facility=facility,
        inspected_on=day,
        kind=kind,
        findings=(findings or "").strip(),
        region_code=facility.region_code,
        recorded_by=actor,
    )
    inspection.inspectors.set(users)
    for row in rows:
        _with_actor(Hazard(inspection=inspection, region_code=facility.region_code, **row), actor).save()
    return inspection


def _locked_hazard(hazard: Hazard, actor) -> Hazard:
    hazard = Hazard.objects.select_for_update().select_related("inspection__facility__kind").get(pk=hazard.pk)
    _require_edit(actor, hazard.inspection.facility, permission="facilities.change_hazard")
    return hazard


@transaction.atomic
def hazard_rectify(*, hazard: Hazard, actor, rectified_on: datetime.date | str | None, note: str) -> Hazard:
    """登记整改完成: the hazard then waits for its re-inspection."""
    hazard = _locked_hazard(hazard, actor)
    if hazard.state != HazardState.OPEN:
        raise ValidationError(f"该隐患{hazard.state_label}，不能再登记整改")
    errors: dict[str, str] = {}
    day = _date({"rectified_on": rectified_on}, "rectified_on", "整改完成日期", errors, required=True)
    _not_future(day, "rectified_on", "整改完成日期", errors)
    if day and day < hazard.inspection.inspected_on:
        errors["rectified_on"] = "整改完成日期不能早于检查日期"
    note = (note or "").strip()
    if not note:
        errors["note"] = "请填写整改情况"
    if errors:
        raise ValidationError(errors)
    hazard.rectified_on = day
    hazard.rectification_note = note
    _with_actor(hazard, actor).save(update_fields=["rectified_on", "rectification_note"])
    return hazard


@transaction.atomic
def hazard_reinspect(
    *,
    hazard: Hazard,
    actor,
    reinspected_on: datetime.date | str | None,
    result: str,
    note: str = "",
    new_deadline: datetime.date | str | None = None,
) -> Hazard:
    """复查: 合格 closes the hazard (销号); 不合格 sends it back to rectification by `new_deadline`."""
    hazard = _locked_hazard(hazard, actor)
    if hazard.state != HazardState.AWAITING:
        reason = "尚未整改" if hazard.state == HazardState.OPEN else "已销号"
        raise ValidationError(f"该隐患{reason}，不能复查")
    errors: dict[str, str] = {}
    day = _date({"reinspected_on": reinspected_on}, "reinspected_on", "复查日期", errors, required=True)
    _not_future(day, "reinspected_on", "复查日期", errors)
    if day and day < hazard.rectified_on:
        errors["reinspected_on"] = "复查日期不能早于整改完成日期"
    if result not in ReinspectionResult.values:
        errors["result"] = "请选择复查结果（合格或不合格）"
    deadline = None
    if result == ReinspectionResult.FAILED:
        deadline = _date(
            {"new_deadline": new_deadline}, "new_deadline", "新的整改期限", errors, required=True
        )
        if deadline and day and deadline < day:
            errors["new_deadline"] = "新的整改期限不能早于复查日期"
    note = (note or "").strip()
    if result == ReinspectionResult.FAILED and not note:
        errors["note"] = "复查不合格，请写明仍存在的问题"
    if errors:
        raise ValidationError(errors)
    hazard.reinspection_result = result
    hazard.reinspected_on = day
    hazard.reinspected_by = actor
    hazard.reinspection_note = note
    if result == ReinspectionResult.FAILED:
        hazard.rectified_on = None
        hazard.deadline = deadline
    _with_actor(hazard, actor).save()
    return hazard


def hazard_photo_add(*, hazard: Hazard, actor, uploaded_file: UploadedFile) -> Attachment:
    """A photo of the hazard or of its rectification (core Attachment, kept with the hazard's region)."""
    hazard = Hazard.objects.select_related("inspection__facility__kind").get(pk=hazard.pk)
    _require_edit(actor, hazard.inspection.facility, permission="facilities.change_hazard")
    return attachment_add(target=hazard, doc_type="other", uploaded_file=uploaded_file, actor=actor)
