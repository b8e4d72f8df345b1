"""Standards (标准), entitlements, monthly payment runs and their lines. The engine knows no benefit by
name: bureau apps create BenefitType rows and register a calculator for each."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Least
from django.utils import timezone

from core.fields import ref, region_prefix_index, user_ref
from core.registry.choices import AreaType
from core.registry.querysets import ScopedQuerySet


class Rounding(models.TextChoices):
    FEN = "fen", "精确到分"
    YUAN = "yuan", "精确到元"


class TouchingQuerySet(models.QuerySet):
    """update() sets updated_at as save() does (unless given): a recalculation re-checks locked months for
    the rows changed after they were calculated (core.benefits.services._recheck_plan), so a bulk update
    must not look unchanged."""

    def update(self, **kwargs):
        kwargs.setdefault("updated_at", timezone.now())
        return super().update(**kwargs)


class StandardQuerySet(TouchingQuerySet):
    def update(self, **kwargs):
        # Which days the change may move, unless the caller says (standard_change): from the row's first
        # day, or from the new one if that is earlier.
        if "changed_from" not in kwargs:
            new_from = kwargs.get("effective_from")
            kwargs["changed_from"] = (
                F("effective_from") if new_from is None else Least(F("effective_from"), Value(new_from))
            )
        return super().update(**kwargs)


class EntitlementQuerySet(ScopedQuerySet, TouchingQuerySet):
    pass


class BenefitType(models.Model):
    code = models.CharField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=60)
    section = models.ForeignKey(
        "accounts.Section",
        verbose_name="业务科室",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="benefit_types",
        help_text="计算、锁定发放批次须具有本科室的科室经办人或科长角色",
    )
    # Superseded by `section` (its text was copied there by benefits/0005); kept because the historical
    # data migrations of the bureau apps write it.
    bureau = models.CharField("业务科室（旧）", max_length=30, blank=True, editable=False)
    is_monthly = models.BooleanField("按月发放", default=True)
    rounding = models.CharField("取整规则", max_length=8, choices=Rounding.choices, default=Rounding.FEN)
    sort_order = models.PositiveSmallIntegerField("排序", default=100)
    # A rounding changed after a locked run was calculated re-checks all its entitlements (services).
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = TouchingQuerySet.as_manager()

    class Meta:
        verbose_name = "待遇类型"
        verbose_name_plural = "待遇类型"
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class Standard(models.Model):
    """An amount with its benefit type, urban/rural, tier and effective dates (e.g. 城市低保 550 → 600
    from 2021-07-01). Looked up by the date the rule applies to; never a constant in code."""

    class Unit(models.TextChoices):
        PER_MONTH = "month", "元/月"
        PER_YEAR = "year", "元/年"
        ONCE = "once", "元/次"
        RATIO = "ratio", "比例"

    benefit_type = models.ForeignKey(
        BenefitType, verbose_name="待遇类型", on_delete=models.PROTECT, related_name="standards"
    )
    area_type = models.CharField(
        "城乡", max_length=8, choices=[("", "不分城乡"), *AreaType.choices], blank=True, default=""
    )
    tier = models.CharField(
        "档次", max_length=40, blank=True, default="", help_text="如：全自理、80-89岁；无档次留空"
    )
    amount = models.DecimalField("金额/比例", max_digits=12, decimal_places=4)
    unit = models.CharField("单位", max_length=8, choices=Unit.choices, default=Unit.PER_MONTH)
    effective_from = models.DateField("生效日期")
    effective_to = models.DateField("失效日期", null=True, blank=True, help_text="留空表示长期有效")
    source = models.CharField("依据文件", max_length=200, blank=True)
    created_by = user_ref("录入人", optional=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    # What a recalculation reads to re-check locked months only for what changed since they were
    # calculated (core.benefits.services._recheck_plan): when the row last changed, and the first day
    # whose standard that change may have moved — its effective_from for a new row, the day after the new
    # effective_to when a later standard ended it (standard_change), the earlier of the old and new
    # effective_from when it was edited.
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    changed_from = models.DateField("变更影响起始日期", null=True, blank=True, editable=False)

    objects = StandardQuerySet.as_manager()

    class Meta:
        verbose_name = "待遇标准"
        verbose_name_plural = "待遇标准"
        ordering = ["benefit_type", "area_type", "tier", "-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True)
                | models.Q(effective_to__gte=models.F("effective_from")),
                name="standard_dates_ordered",
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="standard_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.benefit_type} {self.get_area_type_display()} {self.tier} {self.amount}"

    def save(self, *args, **kwargs):
        if self._state.adding or self.pk is None:
            self.changed_from = self.effective_from
        else:
            stored = Standard.objects.filter(pk=self.pk).values_list("effective_from", flat=True).first()
            self.changed_from = min(d for d in (stored, self.effective_from) if d is not None)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "changed_from", "updated_at"}
        super().save(*args, **kwargs)


class Parameter(models.Model):
    """Any other (local) number of DOMAIN.md — limits, increments, periods — with effective dates."""

    key = models.CharField("参数代码", max_length=60, db_index=True)
    name = models.CharField("参数名称", max_length=100)
    value = models.DecimalField("数值", max_digits=14, decimal_places=4)
    effective_from = models.DateField("生效日期")
    effective_to = models.DateField("失效日期", null=True, blank=True)
    source = models.CharField("依据文件", max_length=200, blank=True)
    # A parameter a calculator reads, changed after a locked run was calculated, re-checks the run's
    # entitlements (Calculator.changed_since).
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = TouchingQuerySet.as_manager()

    class Meta:
        verbose_name = "业务参数"
        verbose_name_plural = "业务参数"
        ordering = ["key", "-effective_from"]

    def __str__(self) -> str:
        return f"{self.name} = {self.value}"


class Entitlement(models.Model):
    """The right of a person or household to a benefit, from an approved case, month by month."""

    class Status(models.TextChoices):
        ACTIVE = "active", "正常发放"
        SUSPENDED = "suspended", "暂停发放"
        ENDED = "ended", "已终止"

    benefit_type = models.ForeignKey(
        BenefitType, verbose_name="待遇类型", on_delete=models.PROTECT, related_name="entitlements"
    )
    person = models.ForeignKey(
        "registry.Person",
        verbose_name="享受人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entitlements",
    )
    household = models.ForeignKey(
        "registry.Household",
        verbose_name="享受家庭",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entitlements",
    )
    case = ref("workflow.Case", "审批案件", optional=True)
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    area_type = models.CharField("城乡", max_length=8, choices=AreaType.choices)
    start_month = models.DateField("起始月份")
    end_month = models.DateField(
        "终止月份", null=True, blank=True, help_text="最后一个发放月份；留空表示长期"
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ACTIVE)
    end_reason = models.CharField("终止原因", max_length=100, blank=True)
    params = models.JSONField("计算参数", default=dict, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = EntitlementQuerySet.as_manager()

    class Meta:
        verbose_name = "待遇资格"
        verbose_name_plural = "待遇资格"
        ordering = ["benefit_type", "region_code", "id"]
        indexes = [
            region_prefix_index("entitlement_region_prefix_idx"),
            models.Index(fields=["benefit_type", "status", "start_month"], name="entitlement_in_force_idx"),
            # A street's entitlements of one type (the by-street recalculation's parts, three reads a
            # part): without it, each read ANDed the region index with every entry of the type's
            # (90,000 for 低保) — 10.8 M index entries read for a city's five types by street.
            models.Index(
                fields=["benefit_type", "region_code"],
                name="entitlement_type_region_idx",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(person__isnull=False) | models.Q(household__isnull=False),
                name="entitlement_has_beneficiary",
            ),
            # One standing grant per benefit type and beneficiary (the person of a person's entitlement,
            # else the household): two open-ended entitlements would both be paid every month. Ended
            # ones and fixed-term ones (a 临时救助 paid once, with its end month) are left out: the
            # services refuse any two whose months overlap (entitlement_create).
            models.UniqueConstraint(
                fields=["benefit_type", "person"],
                condition=models.Q(
                    person__isnull=False, end_month__isnull=True, status__in=["active", "suspended"]
                ),
                name="one_open_entitlement_per_person",
                violation_error_message="该人员已在享受该项待遇，不能重复认定",
            ),
            models.UniqueConstraint(
                fields=["benefit_type", "household"],
                condition=models.Q(
                    person__isnull=True, end_month__isnull=True, status__in=["active", "suspended"]
                ),
                name="one_open_entitlement_per_household",
                violation_error_message="该家庭已在享受该项待遇，不能重复认定",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.benefit_type} #{self.pk}"


def entitlement_ref(verbose_name: str) -> models.ForeignKey:
    """The entitlement a bureau's decision granted (待遇资格): empty until the case is approved, and kept
    from deletion while the decision names it. A decision granting two benefits (特困's 基本生活费 and
    照料护理费) holds one of these for each."""
    return ref(Entitlement, verbose_name, optional=True)


class PaymentRun(models.Model):
    """One benefit type's payments for one month: draft (recalculable) → locked (never changes)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        LOCKED = "locked", "已锁定"

    class Kind(models.TextChoices):
        MONTHLY = "monthly", "月度发放"
        ONE_OFF = "one_off", "一次性发放"

    class CalcState(models.TextChoices):
        """The last requested recalculation, as the run page shows it (a worker's failure included)."""

        IDLE = "", "无"
        QUEUED = "queued", "等待计算"
        RUNNING = "running", "计算中"
        FAILED = "failed", "计算失败"

    benefit_type = models.ForeignKey(
        BenefitType, verbose_name="待遇类型", on_delete=models.PROTECT, related_name="runs"
    )
    month = models.DateField("发放月份")
    kind = models.CharField("发放类型", max_length=10, choices=Kind.choices, default=Kind.MONTHLY)
    title = models.CharField("名称", max_length=100, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    line_count = models.PositiveIntegerField("发放笔数", default=0)
    total_amount = models.DecimalField("发放总额", max_digits=14, decimal_places=2, default=0)
    adjustment_total = models.DecimalField(
        "补发扣回净额", max_digits=14, decimal_places=2, default=0, help_text="已含在发放总额中"
    )
    calculated_at = models.DateTimeField("计算时间", null=True, blank=True)
    # When the last calculation began reading (before any entitlement, standard or fact): once the run is
    # locked, what changed after this is what later runs re-check for 补发/扣回 (services._recheck_plan).
    calc_started_at = models.DateTimeField("计算开始时间", null=True, blank=True, editable=False)
    calculated_by = user_ref("计算人", optional=True)
    locked_at = models.DateTimeField("锁定时间", null=True, blank=True)
    locked_by = user_ref("锁定人", optional=True)
    calc_state = models.CharField(
        "计算任务状态", max_length=10, choices=CalcState.choices, default=CalcState.IDLE, blank=True
    )
    calc_error = models.TextField("计算失败原因", blank=True)
    calc_requested_at = models.DateTimeField("计算提交时间", null=True, blank=True)
    # The calculation its summary (PaymentRunSummary) was written for: the summary holds the run's lines
    # while this equals `calculated_at` (a recalculation clears or moves that stamp; core/benefits/summaries.py).
    summary_of = models.DateTimeField("汇总对应的计算时间", null=True, blank=True, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "发放批次"
        verbose_name_plural = "发放批次"
        ordering = ["-month", "benefit_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["benefit_type", "month"],
                condition=models.Q(kind="monthly"),
                name="one_monthly_run_per_type",
            )
        ]
        permissions = [
            ("recalculate_paymentrun", "计算发放批次"),
            ("lock_paymentrun", "锁定发放批次"),
        ]

    def __str__(self) -> str:
        return f"{self.benefit_type} {self.month:%Y年%m月}"


class PaymentLine(models.Model):
    """One amount paid on one entitlement in one run, with how it was computed."""

    class LineType(models.TextChoices):
        REGULAR = "regular", "正常发放"
        BACK_PAY = "back_pay", "补发"
        RECOVERY = "recovery", "扣回"
        ONE_OFF = "one_off", "一次性"

    class Change(models.TextChoices):
        UNCHANGED = "", "无变化"
        NEW = "new", "新增"
        CHANGED = "changed", "调标"
        STOPPED = "stopped", "停发"

    # No single-column indexes on run and entitlement: the composite indexes below lead with them, and
    # every index costs time when a run writes 150,000 lines.
    run = models.ForeignKey(
        PaymentRun, verbose_name="发放批次", on_delete=models.PROTECT, related_name="lines", db_index=False
    )
    entitlement = models.ForeignKey(
        Entitlement, verbose_name="待遇资格", on_delete=models.PROTECT, related_name="lines", db_index=False
    )
    # The household and person a line is about are kept for the roster and the pages, which join them from
    # the line; nothing looks lines up by them (a household's or person's lines are found through their
    # entitlements, `paymentline_ent_month_idx`), so they carry their foreign keys but no index of their
    # own — each one cost every line the COPY writes an index entry (benchmarks/README.md,
    # "The one transaction in a fresh process, parts pipelined"). A hard delete of a household or person,
    # which the system never does, would scan the lines.
    household = ref("registry.Household", "家庭", optional=True, db_index=False)
    person = ref("registry.Person", "人员", optional=True, db_index=False)
    region_code = models.CharField("区划代码", max_length=12)
    line_type = models.CharField("类型", max_length=10, choices=LineType.choices, default=LineType.REGULAR)
    for_month = models.DateField("所属月份", help_text="补发/扣回所对应的原发放月份")
    covered_persons = models.PositiveSmallIntegerField("保障人数", default=1)
    base_amount = models.DecimalField("基本金额", max_digits=12, decimal_places=2, default=0)
    increment_amount = models.DecimalField("分类施保金额", max_digits=12, decimal_places=2, default=0)
    other_amount = models.DecimalField("其他金额", max_digits=12, decimal_places=2, default=0)
    amount = models.DecimalField("合计金额", max_digits=12, decimal_places=2)
    change = models.CharField("变动标志", max_length=10, choices=Change.choices, blank=True, default="")
    explanation = models.JSONField("计算说明", default=dict)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "发放明细"
        verbose_name_plural = "发放明细"
        ordering = ["run", "region_code", "id"]
        indexes = [
            # A run's lines in a scope, with what the run's page sums per line type from the index alone
            # on PostgreSQL (issue 14: a district's ~35,000 lines of a month read from ~5,000 heap pages,
            # the lines being wide with their explanations).
            models.Index(
                fields=["run", "region_code"],
                name="paymentline_run_region_cover",
                include=["line_type", "amount"],
            ),
            models.Index(fields=["entitlement", "for_month"], name="paymentline_ent_month_idx"),
        ]
        constraints = [
            # One regular line per entitlement and run; one 补发/扣回 line per entitlement and original month.
            models.UniqueConstraint(
                fields=["run", "entitlement", "line_type", "for_month"], name="one_line_per_entitlement_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run} #{self.entitlement_id} {self.amount}"


class PaymentRunSummary(models.Model):
    """A run's lines summed per community (the lines' region code) and 城乡 (the entitlement's), written when
    the run is calculated (core/benefits/summaries.py): the dashboard's and the statistics' spending figures
    of a scope add up a few hundred of these instead of reading every line of the month (issue 14)."""

    run = models.ForeignKey(
        PaymentRun, verbose_name="发放批次", on_delete=models.CASCADE, related_name="summaries"
    )
    region_code = models.CharField("区划代码", max_length=12)
    area_type = models.CharField("城乡", max_length=8)
    lines = models.PositiveIntegerField("明细笔数")
    total = models.DecimalField("合计金额", max_digits=14, decimal_places=2)
    base = models.DecimalField("正常发放基本金额", max_digits=14, decimal_places=2)
    increment = models.DecimalField("正常发放分类施保金额", max_digits=14, decimal_places=2)
    other = models.DecimalField("正常发放其他金额", max_digits=14, decimal_places=2)
    adjust = models.DecimalField("补发扣回金额", max_digits=14, decimal_places=2)
    one_off = models.DecimalField("一次性金额", max_digits=14, decimal_places=2)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "发放批次汇总"
        verbose_name_plural = "发放批次汇总"
        constraints = [
            models.UniqueConstraint(fields=["run", "region_code", "area_type"], name="one_summary_per_area")
        ]

    def __str__(self) -> str:
        return f"{self.run} {self.region_code} {self.area_type}"


class ChangeCheck(models.Model):
    """变化核查: a change recorded after a decision fixed an amount (an income, an asset, a member joining or
    leaving, a disability or illness) for a household or person whose entitlement is paid on that
    decision. The amount does not move (DOMAIN.md: "a reason to review, not a silent change"); the change
    becomes a to-do for the caseworker, closed by opening a review or by a written finding that nothing
    changes. One open check per entitlement: later changes are added to it."""

    class Status(models.TextChoices):
        OPEN = "open", "待核查"
        REVIEW = "review", "已发起复核"
        NO_CHANGE = "no_change", "核查无需调整"

    entitlement = models.ForeignKey(
        Entitlement, verbose_name="待遇资格", on_delete=models.PROTECT, related_name="change_checks"
    )
    household = ref("registry.Household", "家庭", optional=True)
    person = ref("registry.Person", "人员", optional=True)
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    changes = models.JSONField(
        "变化情况", default=list, help_text="[{at, what, by}]：登记时间、变化内容、登记人"
    )
    opened_at = models.DateTimeField("发现时间", auto_now_add=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    closed_by = user_ref("办结人", optional=True)
    finding = models.TextField("核查结论", blank=True)
    review_case = ref("workflow.Case", "复核案件", optional=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "变化核查"
        verbose_name_plural = "变化核查"
        ordering = ["-opened_at", "-id"]
        indexes = [region_prefix_index("changecheck_region_prefix_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["entitlement"],
                condition=models.Q(status="open"),
                name="one_open_change_check_per_entitlement",
                violation_error_message="该待遇已有待核查的变化",
            )
        ]

    def __str__(self) -> str:
        return f"变化核查 #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN
