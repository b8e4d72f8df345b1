"""The shared registry of regions, households and people (户籍与人员) all bureaus use."""

from __future__ import annotations

import datetime
import functools
import operator

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from simple_history.models import HistoricalRecords

from core.fields import prefix_index, ref, region_prefix_index, user_ref

from .choices import (
    ASSESSMENT_LEVELS,
    HOUSEHOLD_FACT_KINDS,
    PERSON_FACT_KINDS,
    SCOPE_DIGITS,
    AreaType,
    AssessmentKind,
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
    SelfCare,
    Sex,
    assessment_level_label,
    fact_value_label,
    income_treatment,
)
from .crypto import EncryptedCharField, KeyedHashField
from .querysets import ScopedQuerySet


class Region(models.Model):
    """统计用区划代码: 12 digits, the prefix is the hierarchy (province 2, city 2, county 2, town 3, village 3)."""

    code = models.CharField("区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=100)
    level = models.PositiveSmallIntegerField("层级", choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级区划",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    area_type = models.CharField("城乡类型", max_length=8, choices=AreaType.choices, default=AreaType.URBAN)
    is_demo = models.BooleanField("演示数据", default=False, help_text="演示用区划，代码不一定是官方代码")
    is_active = models.BooleanField("有效", default=True)
    # 监督电话 printed on the 公示名单 and the 保障对象张榜名单 (a street's own number, else its district's).
    complaint_phone = models.CharField(
        "监督电话",
        max_length=40,
        blank=True,
        help_text="公示名单、保障对象张榜名单上公布的监督（投诉）电话；街道未设置的使用所属区县的电话",
    )

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]
        indexes = [prefix_index("code", "region_code_prefix_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def scope_prefix(self) -> str:
        return self.code[: SCOPE_DIGITS[self.level]]

    @property
    def full_name(self) -> str:
        names = [self.name]
        node = self.parent
        while node is not None and node.level >= RegionLevel.DISTRICT:
            names.append(node.name)
            node = node.parent
        return "".join(reversed(names))


class Household(models.Model):
    """户: lives in one community/village; members are Persons with their relation to the head."""

    number = models.CharField("户编号", max_length=20, unique=True)
    region = ref(Region, "所属社区/村")
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    address = models.CharField("住址", max_length=200)
    area_type = models.CharField("城乡类型", max_length=8, choices=AreaType.choices)
    head = ref("Person", "户主", optional=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    bank_name = models.CharField("开户银行", max_length=60, blank=True)
    bank_account = EncryptedCharField("银行账号", max_length=32, blank=True)
    account_holder = models.CharField("代领人/账户名", max_length=50, blank=True)
    is_active = models.BooleanField("有效", default=True)
    # Kept by the database (core/registry/household_kept.py, migration 0107): the living members (persons of
    # the household without a death date) and the head's name, moved by triggers on every write of a person
    # or the household, whatever wrote it; a save of the household never writes back stale values. Read
    # them, never write them. The 家庭档案 list sorts and shows them without reading a district's people.
    living_members = models.PositiveIntegerField("在册人数", default=0, editable=False)
    head_name = models.CharField("户主姓名", max_length=50, default="", editable=False)
    created_by = user_ref("登记人", null=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at", "living_members", "head_name"])

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "家庭"
        verbose_name_plural = "家庭"
        ordering = ["number"]
        indexes = [
            region_prefix_index("household_region_prefix_idx"),
            # The scope's prefix scan again, covering what the 家庭档案 list counts, filters and sorts by
            # (issue 14): its count and its page of ids are an index-only scan (PostgreSQL; others ignore
            # INCLUDE). Beside the narrow index rather than instead of it: wider, it priced the narrow
            # one's other uses out of small tables' plans.
            models.Index(
                fields=["region_code"],
                name="household_list_cover_idx",
                opclasses=["varchar_pattern_ops"],
                include=[
                    "id",
                    "is_active",
                    "number",
                    "created_at",
                    "area_type",
                    "living_members",
                    "head_name",
                ],
            ),
            # 户编号 prefix search (人员查询 by a community's code): the unique index does not serve LIKE.
            prefix_index("number", "household_number_prefix_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class Person(models.Model):
    """One row per human, keyed by a validated identity document."""

    name = models.CharField("姓名", max_length=50, db_index=True)
    id_type = models.CharField(
        "证件类型", max_length=10, choices=DocumentType.choices, default=DocumentType.RIC
    )
    # Encrypted at rest; found, and kept unique, by its keyed hash (crypto.py: search with id_number_q).
    id_number = EncryptedCharField("证件号码", max_length=32)
    id_number_hash = KeyedHashField("证件号码检索码", source="id_number")  # unique: Meta.constraints
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("出生日期")
    ethnicity = models.CharField("民族", max_length=20, blank=True, default="汉族")
    phone = models.CharField("联系电话", max_length=20, blank=True)
    household = models.ForeignKey(
        Household,
        verbose_name="所在家庭",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    relation = models.CharField("与户主关系", max_length=16, choices=Relation.choices, blank=True)
    region_code = models.CharField("区划代码", max_length=12, blank=True, editable=False)
    marital_status = models.CharField(
        "婚姻状况", max_length=10, choices=MaritalStatus.choices, default=MaritalStatus.UNMARRIED
    )
    disability_category = models.CharField(
        "残疾类别", max_length=16, choices=DisabilityCategory.choices, blank=True
    )
    disability_grade = models.PositiveSmallIntegerField(
        "残疾等级", choices=DisabilityGrade.choices, null=True, blank=True
    )
    disability_cert_no = models.CharField("残疾证号", max_length=32, blank=True)
    serious_illness = models.BooleanField("重病", default=False)
    self_care = models.CharField("自理能力", max_length=10, choices=SelfCare.choices, default=SelfCare.FULL)
    labour_capacity = models.CharField(
        "劳动能力", max_length=10, choices=LabourCapacity.choices, default=LabourCapacity.FULL
    )
    death_date = models.DateField("死亡日期", null=True, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "人员"
        verbose_name_plural = "人员"
        ordering = ["id"]
        indexes = [
            region_prefix_index("person_region_prefix_idx"),
            # The living registered people of a scope, counted by the dashboard from this index alone
            # (issue 14: the count read ~100,000 rows of the table for a district).
            models.Index(
                fields=["region_code"],
                name="person_live_region_prefix_idx",
                opclasses=["varchar_pattern_ops"],
                condition=models.Q(death_date__isnull=True, household__isnull=False),
            ),
            # A household's living members, counted household by household for the 家庭档案 list sorted by
            # 人数 (issue 14: ~40,000 index-only probes for a district instead of hashing every person).
            models.Index(
                fields=["household"],
                name="person_living_household_idx",
                condition=models.Q(death_date__isnull=True),
            ),
            # The disabled of a scope (~6 % of people): the 两项补贴 monthly comparison and its coverage read
            # only them, from the index alone on PostgreSQL (issue 14; others ignore INCLUDE).
            models.Index(
                fields=["region_code"],
                name="person_disabled_region_idx",
                opclasses=["varchar_pattern_ops"],
                condition=models.Q(disability_grade__isnull=False),
                include=["id", "household_id", "death_date", "disability_grade", "disability_cert_no"],
            ),
            # The people changed since a locked month was calculated (a death, a birth date corrected): the
            # 低保 calculator's re-check (`DibaoCalculator.changed_since`) reads those few instead of
            # probing each run's 225,000 covered persons (issue 14: 2.8 s a 低保 run at city scale).
            models.Index(fields=["updated_at"], name="person_updated_at_idx"),
        ]
        # One person per ID number. A constraint rather than unique=True: a unique CharField also gets a
        # LIKE index on PostgreSQL, which a hash never needs (≈ 100 MB at a million people).
        constraints = [
            models.UniqueConstraint(fields=["id_number_hash"], name="person_id_number_hash_unique")
        ]
        permissions = [("view_full_personal_data", "可查看完整个人信息（身份证号、电话、银行账号）")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_deceased(self) -> bool:
        return self.death_date is not None


class Membership(models.Model):
    """A person's stay in a household; a move closes one row and opens another, so history is kept."""

    person = models.ForeignKey(
        Person, verbose_name="人员", on_delete=models.PROTECT, related_name="memberships"
    )
    household = models.ForeignKey(
        Household, verbose_name="家庭", on_delete=models.PROTECT, related_name="memberships"
    )
    relation = models.CharField("与户主关系", max_length=16, choices=Relation.choices)
    joined_on = models.DateField("迁入日期")
    left_on = models.DateField("迁出日期", null=True, blank=True)
    reason = models.CharField("变动原因", max_length=100, blank=True)

    class Meta:
        verbose_name = "家庭成员关系"
        verbose_name_plural = "家庭成员关系"
        ordering = ["household", "joined_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(left_on__isnull=True),
                name="one_open_membership_per_person",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} @ {self.household}"


class IncomeRecord(models.Model):
    """A monthly income of a household (or one member) over a period; its kind decides how it counts."""

    household = models.ForeignKey(
        Household, verbose_name="家庭", on_delete=models.PROTECT, related_name="incomes"
    )
    person = models.ForeignKey(
        Person, verbose_name="成员", null=True, blank=True, on_delete=models.PROTECT, related_name="incomes"
    )
    kind = models.CharField("收入类型", max_length=20, choices=IncomeKind.choices)
    monthly_amount = models.DecimalField("月均金额（元）", max_digits=12, decimal_places=2)
    period_start = models.DateField("起始日期")
    period_end = models.DateField("截止日期", null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    recorded_by = user_ref("登记人", null=True)
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "收入记录"
        verbose_name_plural = "收入记录"
        ordering = ["household", "-period_start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(monthly_amount__gte=0), name="income_amount_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.monthly_amount}"

    @property
    def treatment(self) -> str:
        return income_treatment(self.kind)


class AssetRecord(models.Model):
    household = models.ForeignKey(
        Household, verbose_name="家庭", on_delete=models.PROTECT, related_name="assets"
    )
    person = models.ForeignKey(
        Person, verbose_name="所有人", null=True, blank=True, on_delete=models.PROTECT, related_name="assets"
    )
    kind = models.CharField("财产类型", max_length=16, choices=AssetKind.choices)
    description = models.CharField("描述", max_length=200, blank=True)
    value = models.DecimalField("价值（元）", max_digits=14, decimal_places=2)
    # 财产 limits (DOMAIN.md "财产"): a motor vehicle needed for a member's disability is allowed whatever
    # its value; a registered business is judged by its registered capital, not its book value.
    for_disability = models.BooleanField("残疾人功能性补偿代步车辆", default=False)
    registered_capital = models.DecimalField(
        "注册资本（元）", max_digits=14, decimal_places=2, null=True, blank=True
    )
    recorded_on = models.DateField("核查日期")
    recorded_by = user_ref("登记人", null=True)
    # An asset is held from its 核查日期 until it is sold, closed or re-recorded at a later check (a deposit
    # found again with a new balance): then the record ends (services.asset_record_end), it is never
    # deleted. Held on day D: recorded_on <= D < disposed_on (null: still held).
    disposed_on = models.DateField("处置/注销日期", null=True, blank=True)
    disposal_reason = models.CharField("处置/注销原因", max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "财产记录"
        verbose_name_plural = "财产记录"
        ordering = ["household", "-recorded_on"]
        constraints = [
            models.CheckConstraint(condition=models.Q(value__gte=0), name="asset_value_not_negative"),
            models.CheckConstraint(
                condition=models.Q(disposed_on__isnull=True)
                | models.Q(disposed_on__gte=models.F("recorded_on")),
                name="asset_disposed_not_before_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"

    def held_on(self, day: datetime.date) -> bool:
        """Whether the household held this asset on `day` (what the 财产 limits count)."""
        return self.recorded_on <= day and (self.disposed_on is None or self.disposed_on > day)


def attachment_path(instance: Attachment, filename: str) -> str:
    return (
        f"attachments/{instance.region_code[:6] or 'all'}/{instance.sha256[:2]}/{instance.sha256}_{filename}"
    )


class Attachment(models.Model):
    """A scanned document attached to a household, a person or a case (generic relation)."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    doc_type = models.CharField("材料类型", max_length=20, choices=AttachmentType.choices)
    file = models.FileField("文件", upload_to=attachment_path, max_length=255)
    original_name = models.CharField("原文件名", max_length=200)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256 校验值", max_length=64)
    uploaded_by = user_ref("上传人")
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    is_removed = models.BooleanField("已作废", default=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"
        ordering = ["-uploaded_at"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return self.original_name


class LifeEvent(models.Model):
    """A fact about a person that other bureaus react to (death, turning 18/80, marital change)."""

    person = models.ForeignKey(
        Person, verbose_name="人员", on_delete=models.PROTECT, related_name="life_events"
    )
    kind = models.CharField("事件", max_length=20, choices=LifeEventKind.choices)
    event_date = models.DateField("发生日期")
    data = models.JSONField("详情", default=dict, blank=True)
    recorded_by = user_ref("登记人", null=True)
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "人员生命事件"
        verbose_name_plural = "人员生命事件"
        ordering = ["-event_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "kind"],
                condition=models.Q(kind__in=["death", "turned_18", "turned_80"]),
                name="one_lifetime_event_per_person",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.get_kind_display()}"


class HouseholdSequence(models.Model):
    """The last 户编号 sequence used in a community; bumped with one upsert so concurrent registrations
    never draw the same number (the row lock is held until the registering transaction ends)."""

    region_code = models.CharField("区划代码", max_length=12, primary_key=True)
    last_value = models.PositiveIntegerField("已用序号", default=0)

    class Meta:
        verbose_name = "户编号序列"
        verbose_name_plural = "户编号序列"

    def __str__(self) -> str:
        return f"{self.region_code}: {self.last_value}"


class PersonFact(models.Model):
    """A dated fact (登记信息) about a person or a household: 户籍/常住状况, 独居, 空巢, 留守老人, 失独, 优抚对象
    of a person; 计划生育特殊家庭, 防返贫监测户 of a household. Never overwritten: a new value closes the open
    row the day before it starts, ending sets `valid_to`, so what was true on any date can be answered
    (core/registry/facts.py writes and reads them)."""

    person = models.ForeignKey(
        Person, verbose_name="人员", null=True, blank=True, on_delete=models.PROTECT, related_name="facts"
    )
    household = models.ForeignKey(
        Household, verbose_name="家庭", null=True, blank=True, on_delete=models.PROTECT, related_name="facts"
    )
    kind = models.CharField("信息类别", max_length=32, choices=FactKind.choices)
    value = models.CharField("类别/状况", max_length=32, blank=True)
    valid_from = models.DateField("起始日期")
    valid_to = models.DateField("截止日期", null=True, blank=True, help_text="空 = 至今仍然有效")
    source = models.CharField("信息来源", max_length=20, choices=FactSource.choices)
    note = models.CharField("说明", max_length=200, blank=True)
    # The subject's region when recorded: scope of lists and exports of the facts themselves.
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    recorded_by = user_ref("登记人", null=True)
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)
    ended_by = user_ref("结束登记人", optional=True)
    ended_at = models.DateTimeField("结束登记时间", null=True, blank=True)
    end_reason = models.CharField("结束原因", max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "登记信息"
        verbose_name_plural = "登记信息"
        ordering = ["kind", "-valid_from"]
        indexes = [
            region_prefix_index("personfact_region_idx"),
            models.Index(fields=["kind", "valid_from"], name="personfact_kind_from_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(person__isnull=False, household__isnull=True)
                    | models.Q(person__isnull=True, household__isnull=False)
                ),
                name="personfact_one_subject",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(person__isnull=False, kind__in=sorted(k.value for k in PERSON_FACT_KINDS))
                    | models.Q(
                        household__isnull=False, kind__in=sorted(k.value for k in HOUSEHOLD_FACT_KINDS)
                    )
                ),
                name="personfact_kind_fits_subject",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="personfact_valid_to_after_from",
            ),
            models.UniqueConstraint(
                fields=["person", "kind"],
                condition=models.Q(valid_to__isnull=True, person__isnull=False),
                name="one_open_fact_per_person_kind",
            ),
            models.UniqueConstraint(
                fields=["household", "kind"],
                condition=models.Q(valid_to__isnull=True, household__isnull=False),
                name="one_open_fact_per_household_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        value = fact_value_label(self.kind, self.value)
        return f"{self.get_kind_display()}：{value}" if value else self.get_kind_display()

    @property
    def value_label(self) -> str:
        return fact_value_label(self.kind, self.value)

    @property
    def subject(self) -> Person | Household:
        return self.person if self.person_id is not None else self.household

    def holds_on(self, day) -> bool:
        return self.valid_from <= day and (self.valid_to is None or self.valid_to >= day)


def _level_fits_kind() -> models.Q:
    """Each kind's level is one of that kind's levels (choices.ASSESSMENT_LEVELS)."""
    conditions = [
        models.Q(kind=str(kind), level__in=sorted(levels.values))
        for kind, levels in ASSESSMENT_LEVELS.items()
    ]
    return functools.reduce(operator.or_, conditions)


class Assessment(models.Model):
    """An assessment of a person with its period of validity: 老年人能力评估 (GB/T 42195-2022) or the 特困
    care-tier assessment (民发〔2021〕43号). A re-assessment is a new row that supersedes the earlier one
    from its date; the level in force on any date is core.registry.facts.assessment_level_on."""

    person = models.ForeignKey(
        Person, verbose_name="人员", on_delete=models.PROTECT, related_name="assessments"
    )
    kind = models.CharField("评估类别", max_length=20, choices=AssessmentKind.choices)
    level = models.CharField("评估等级", max_length=16)
    assessor = models.CharField("评估人员", max_length=100)
    assessor_org = models.CharField("评估机构", max_length=100)
    assessed_on = models.DateField("评估日期")
    valid_until = models.DateField("有效期至")
    note = models.CharField("说明", max_length=200, blank=True)
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    recorded_by = user_ref("登记人", null=True)
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "评估记录"
        verbose_name_plural = "评估记录"
        ordering = ["person", "kind", "-assessed_on"]
        indexes = [region_prefix_index("assessment_region_idx")]
        constraints = [
            # One assessment of a kind per person and day: which of two would be in force is unanswerable.
            models.UniqueConstraint(
                fields=["person", "kind", "assessed_on"], name="one_assessment_per_person_kind_day"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("assessed_on")),
                name="assessment_valid_until_after_assessed_on",
            ),
            models.CheckConstraint(condition=_level_fits_kind(), name="assessment_level_fits_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.level_label}"

    @property
    def level_label(self) -> str:
        return assessment_level_label(self.kind, self.level)

    def in_force_on(self, day) -> bool:
        return self.assessed_on <= day <= self.valid_until
