"""The register of service facilities (服务设施) every bureau runs or supervises, and their safety inspections
(安全检查) with hazards (隐患), rectification (整改) and re-inspection (复查).

Kinds are data (FacilityKind, seeded by this app's migration; a bureau app adds its own by a data migration).
Every facility, inspection and hazard carries the `region_code` of the facility's community or street, so
`visible_to(user)` scopes all three by prefix. Nothing is deleted: a facility closes with `is_active`."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from core.fields import ref, region_prefix_index, user_ref
from core.registry.crypto import EncryptedCharField
from core.registry.models import Region
from core.registry.querysets import ScopedQuerySet

from .choices import (
    BED_FIELDS,
    RESIDENT_FIELDS,
    HazardState,
    InspectionKind,
    OperatorType,
    RatingLevel,
    ReinspectionResult,
    Severity,
)


class FacilityKind(models.Model):
    """A kind of facility (养老机构, 儿童之家, 殡仪馆 …) and the section (业务科室 code) whose staff edit it."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=50)
    section_code = models.SlugField("业务科室代码", max_length=30)
    has_beds = models.BooleanField("设有床位", default=False)
    sort_order = models.PositiveSmallIntegerField("排序", default=100)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "设施类别"
        verbose_name_plural = "设施类别"
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


def _sum(fields) -> models.Expression:
    total = F(fields[0][0])
    for name, _ in fields[1:]:
        total = total + F(name)
    return total


class Facility(models.Model):
    kind = ref(FacilityKind, "设施类别")
    name = models.CharField("设施名称", max_length=100)
    region = ref(Region, "所属街道/社区")
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    address = models.CharField("地址", max_length=200)
    operator_type = models.CharField("运营性质", max_length=20, choices=OperatorType.choices)
    operator_name = models.CharField("运营单位", max_length=100, blank=True)
    uscc = models.CharField("统一社会信用代码", max_length=18, blank=True)
    licence_no = models.CharField("许可/备案编号", max_length=50, blank=True)
    licensed_on = models.DateField("许可/备案日期", null=True, blank=True)
    capacity = models.IntegerField("服务容量（人）", null=True, blank=True)
    floor_area = models.DecimalField("建筑面积（㎡）", max_digits=10, decimal_places=2, null=True, blank=True)
    beds_nursing = models.IntegerField("护理型床位", default=0)
    beds_dementia = models.IntegerField("失智照护床位", default=0)
    beds_general = models.IntegerField("普通床位", default=0)
    residents_intact = models.IntegerField("在住：能力完好", default=0)
    residents_mild = models.IntegerField("在住：轻度失能", default=0)
    residents_moderate = models.IntegerField("在住：中度失能", default=0)
    residents_severe = models.IntegerField("在住：重度失能", default=0)
    residents_total = models.IntegerField("在住：完全失能", default=0)
    rating_level = models.PositiveSmallIntegerField(
        "等级", choices=RatingLevel.choices, null=True, blank=True
    )
    rated_on = models.DateField("评定日期", null=True, blank=True)
    rating_valid_until = models.DateField("等级有效期至", null=True, blank=True)
    # The institution's own account: 特困 集中供养 pays the basic living fee to it (the 花名册 reads these for
    # the lines whose entitlement names the facility as payee). Encrypted at rest like Household.bank_account.
    bank_name = models.CharField("开户银行", max_length=60, blank=True)
    bank_account = EncryptedCharField("银行账号", max_length=32, blank=True)
    account_name = models.CharField("账户名称", max_length=100, blank=True)
    is_active = models.BooleanField("在用", default=True)
    created_by = user_ref("登记人", null=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "服务设施"
        verbose_name_plural = "服务设施"
        ordering = ["region_code", "name"]
        indexes = [region_prefix_index("facility_region_idx")]
        constraints = [
            # The same facility registered twice (two clicks, two tabs) would be inspected twice.
            models.UniqueConstraint(
                fields=["region", "kind", "name"],
                condition=Q(is_active=True),
                name="facility_one_active_per_name",
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gte=0), name="facility_capacity_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(floor_area__isnull=True) | Q(floor_area__gte=0),
                name="facility_floor_area_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(**{f"{name}__gte": 0 for name, _ in BED_FIELDS + RESIDENT_FIELDS}),
                name="facility_counts_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gte=_sum(BED_FIELDS)),
                name="facility_beds_within_capacity",
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gte=_sum(RESIDENT_FIELDS)),
                name="facility_residents_within_capacity",
            ),
            models.CheckConstraint(
                condition=Q(rating_level__isnull=True) | Q(rating_level__gte=1, rating_level__lte=5),
                name="facility_rating_level_1_to_5",
            ),
            # A level is given on a date; its expiry comes after that date.
            models.CheckConstraint(
                condition=Q(rating_level__isnull=True) | Q(rated_on__isnull=False),
                name="facility_rating_has_date",
            ),
            models.CheckConstraint(
                condition=Q(rating_valid_until__isnull=True)
                | Q(rated_on__isnull=False, rating_valid_until__gt=F("rated_on")),
                name="facility_rating_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def beds_total(self) -> int:
        return sum(getattr(self, name) for name, _ in BED_FIELDS)

    @property
    def residents_sum(self) -> int:
        return sum(getattr(self, name) for name, _ in RESIDENT_FIELDS)

    def beds(self) -> list[tuple[str, int]]:
        return [(label, getattr(self, name)) for name, label in BED_FIELDS]

    def residents(self) -> list[tuple[str, int]]:
        return [(label, getattr(self, name)) for name, label in RESIDENT_FIELDS]

    def rating_expired(self, day: datetime.date) -> bool:
        return bool(self.rating_valid_until and self.rating_valid_until < day)


class Inspection(models.Model):
    """One safety inspection of a facility: its own monthly self-check (自查), the district's full-coverage
    inspection (区级检查) or a special campaign (专项检查, e.g. 消防安全专项整治)."""

    facility = models.ForeignKey(
        Facility, verbose_name="设施", on_delete=models.PROTECT, related_name="inspections"
    )
    inspected_on = models.DateField("检查日期")
    kind = models.CharField("检查类型", max_length=20, choices=InspectionKind.choices)
    inspectors = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name="检查人员", related_name="+")
    findings = models.TextField("检查情况", blank=True)
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    recorded_by = user_ref("录入人")
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "安全检查"
        verbose_name_plural = "安全检查"
        ordering = ["-inspected_on", "-pk"]
        indexes = [
            region_prefix_index("inspection_region_idx"),
            # "not inspected this month": one probe per facility of (facility, date ≥ period start).
            models.Index(fields=["facility", "inspected_on"], name="inspection_facility_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.facility} {self.inspected_on} {self.get_kind_display()}"


class Hazard(models.Model):
    """A hazard found by an inspection: rectified by the facility by its deadline (整改), then re-inspected
    (复查). 合格 closes it (销号); 不合格 sends it back to rectification with a new deadline. The state is
    read from the dates (HazardState); the history keeps each earlier deadline and result."""

    inspection = models.ForeignKey(
        Inspection, verbose_name="安全检查", on_delete=models.PROTECT, related_name="hazards"
    )
    description = models.TextField("隐患描述")
    severity = models.CharField("隐患等级", max_length=10, choices=Severity.choices)
    deadline = models.DateField("整改期限")
    responsible_person = models.CharField("整改责任人", max_length=50)
    rectified_on = models.DateField("整改完成日期", null=True, blank=True)
    rectification_note = models.TextField("整改情况", blank=True)
    reinspection_result = models.CharField(
        "复查结果", max_length=10, choices=ReinspectionResult.choices, blank=True
    )
    reinspected_on = models.DateField("复查日期", null=True, blank=True)
    reinspected_by = user_ref("复查人", optional=True)
    reinspection_note = models.TextField("复查意见", blank=True)
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    history = HistoricalRecords()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "安全隐患"
        verbose_name_plural = "安全隐患"
        ordering = ["deadline", "pk"]
        indexes = [
            region_prefix_index("hazard_region_idx"),
            # The overdue list: not rectified, deadline before today.
            models.Index(fields=["deadline"], condition=Q(rectified_on__isnull=True), name="hazard_open_idx"),
        ]
        constraints = [
            # 销号 only after a rectification and a re-inspection on a date by someone.
            models.CheckConstraint(
                condition=~Q(reinspection_result=ReinspectionResult.PASSED)
                | Q(rectified_on__isnull=False, reinspected_on__isnull=False, reinspected_by__isnull=False),
                name="hazard_passed_after_rectification",
            ),
            models.CheckConstraint(
                condition=Q(reinspection_result="") | Q(reinspected_on__isnull=False),
                name="hazard_result_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.description[:30]

    @property
    def state(self) -> str:
        if self.reinspection_result == ReinspectionResult.PASSED:
            return HazardState.CLOSED
        if self.rectified_on is None:
            return HazardState.OPEN
        return HazardState.AWAITING

    @property
    def state_label(self) -> str:
        return HazardState(self.state).label

    def is_overdue(self, day: datetime.date) -> bool:
        """Overdue from the day after the deadline while not rectified (on the deadline day it is not)."""
        return self.rectified_on is None and self.deadline < day

    def days_overdue(self, day: datetime.date) -> int:
        return (day - self.deadline).days if self.is_overdue(day) else 0
