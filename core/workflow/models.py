"""The case engine every bureau uses: one case header table, an immutable transition log,
a working-day calendar and 公示 (public notice) periods."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import models

from core.fields import ref, region_prefix_index, user_ref
from core.registry.querysets import ScopedQuerySet


class Case(models.Model):
    """Header row of every application of every bureau. A bureau's application model has
    `case = OneToOneField(Case, primary_key=True)`; to-do lists and dashboards query this table alone."""

    number = models.CharField("案件编号", max_length=32, unique=True)
    case_type = models.CharField("业务类型", max_length=40, db_index=True)
    applicant_person = ref("registry.Person", "申请人", optional=True)
    applicant_household = ref("registry.Household", "申请家庭", optional=True)
    applicant_name = models.CharField("申请人姓名", max_length=100)
    region = ref("registry.Region", "所属区划")
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    status = models.CharField("状态", max_length=30, db_index=True)
    current_step = models.CharField("当前环节", max_length=50, blank=True)
    assignee_role = models.CharField("待办角色", max_length=30, blank=True, db_index=True)
    is_open = models.BooleanField("办理中", default=True, db_index=True)
    step_started_on = models.DateField("本环节开始日期", null=True, blank=True)
    due_date = models.DateField("本环节办理时限", null=True, blank=True, db_index=True)
    accepted_on = models.DateField("受理日期", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    created_by = user_ref("录入人")
    updated_by = user_ref("最后经办人")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "业务案件"
        verbose_name_plural = "业务案件"
        ordering = ["-created_at"]
        indexes = [
            region_prefix_index("case_region_prefix_idx"),
            models.Index(fields=["is_open", "assignee_role", "due_date"], name="case_todo_idx"),
        ]
        permissions = [
            ("review_case", "审核案件（街道/科室）"),
            ("approve_case", "审批确认案件（科长）"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def type_def(self):
        """The registered `CaseType` declaration (None if its app is not installed)."""
        from .engine import find_case_type

        return find_case_type(self.case_type)

    @property
    def type_label(self) -> str:
        ct = self.type_def
        return ct.label if ct else self.case_type

    @property
    def status_label(self) -> str:
        ct = self.type_def
        return ct.status_label(self.status) if ct else self.status


class TransitionLogQuerySet(models.QuerySet):
    """Bulk update/delete would bypass the model's guards; the audit trail refuses both."""

    def update(self, **kwargs):
        raise PermissionDenied("流转记录不可修改")

    def delete(self):
        raise PermissionDenied("流转记录不可删除")


class TransitionLog(models.Model):
    """Immutable record of one state change (who, when, from, to, comment). Immutability is enforced
    in the model, its queryset, and on PostgreSQL by a trigger (migration 0004)."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="transitions")
    transition = models.CharField("操作", max_length=40)
    label = models.CharField("操作名称", max_length=50)
    kind = models.CharField("操作性质", max_length=10, blank=True)
    from_status = models.CharField("原状态", max_length=30, blank=True)
    to_status = models.CharField("新状态", max_length=30)
    actor = user_ref("经办人")
    at = models.DateTimeField("时间", auto_now_add=True)
    comment = models.TextField("意见", blank=True)
    data = models.JSONField("附加信息", default=dict, blank=True)

    objects = TransitionLogQuerySet.as_manager()

    class Meta:
        verbose_name = "流转记录"
        verbose_name_plural = "流转记录"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case} {self.label}"

    def save(self, *args, **kwargs):
        # An audit row is written once and never changed.
        if self.pk is not None:
            raise PermissionDenied("流转记录不可修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("流转记录不可删除")


class CalendarDay(models.Model):
    """One day of the official working-day calendar (法定节假日与调休). Seeded 2024–2026 from
    `chinese-calendar`; each later year is entered by the administrator from the State Council notice."""

    date = models.DateField("日期", unique=True)
    is_working_day = models.BooleanField("工作日")
    note = models.CharField("说明", max_length=50, blank=True, help_text="如：国庆节、调休上班")

    class Meta:
        verbose_name = "工作日历"
        verbose_name_plural = "工作日历"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {'工作日' if self.is_working_day else '休息日'}"


class PublicNotice(models.Model):
    """公示: a real period with a start and an end date, its place and any objections."""

    class Status(models.TextChoices):
        OPEN = "open", "公示中"
        PASSED = "passed", "公示期满无异议"
        OBJECTED = "objected", "有异议"

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="notices")
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    start_date = models.DateField("公示开始日期")
    end_date = models.DateField("公示结束日期")
    place = models.CharField("公示地点", max_length=100, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    objection = models.TextField("异议情况", blank=True)
    created_by = user_ref("发布人")
    created_at = models.DateTimeField("发布时间", auto_now_add=True)
    closed_at = models.DateTimeField("结束办理时间", null=True, blank=True)
    closed_by = user_ref("结束办理人", optional=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "公示"
        verbose_name_plural = "公示"
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")), name="notice_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.start_date}–{self.end_date}"


class CaseSequence(models.Model):
    """The last number handed out for one case-number prefix and year (案件编号流水号).

    `case_create` locks the row with SELECT … FOR UPDATE, so two caseworkers saving at the same
    moment never get the same number and numbers never repeat."""

    prefix = models.CharField("编号前缀", max_length=10)
    year = models.PositiveSmallIntegerField("年度")
    last_value = models.PositiveIntegerField("已用流水号", default=0)

    class Meta:
        verbose_name = "案件编号流水"
        verbose_name_plural = "案件编号流水"
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="case_sequence_prefix_year")]

    def __str__(self) -> str:
        return f"{self.prefix}{self.year}: {self.last_value}"


class CaseRecordQuerySet(ScopedQuerySet):
    def open(self):
        return self.filter(is_open=True)


class CaseRecord(models.Model):
    """What every bureau's record on a case repeats (the case-flow kit, see README "How to add a flow"):
    the case it details, the region it is scoped by, whether it is still being handled, who entered it.

    `is_open` mirrors `case.is_open` (the kit's closing effect keeps it) so that "one open application of
    this kind per applicant" can be a conditional unique constraint of the bureau's table (`one_open_per`)."""

    case = models.OneToOneField(
        Case, verbose_name="案件", primary_key=True, on_delete=models.PROTECT, related_name="%(class)s"
    )
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    is_open = models.BooleanField("办理中", default=True, editable=False)
    created_by = user_ref("录入人")
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    objects = CaseRecordQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.case)


def one_open_per(*fields: str, name: str, message: str) -> models.UniqueConstraint:
    """The constraint `CaseRecord.is_open` is kept for: at most one open record of a bureau's table per
    `fields` (per applicant, per household and case type, per entitlement under review). The database
    refuses the second one even when two caseworkers save at the same moment; `message` is what the
    caseworker reads."""
    return models.UniqueConstraint(
        fields=list(fields), condition=models.Q(is_open=True), name=name, violation_error_message=message
    )


class Application(CaseRecord):
    """An application a household (and, for a personal benefit, one of its members) signed, and the
    decision on it: approved or refused with written reasons, by whom and when."""

    household = ref("registry.Household", "申请家庭")
    applied_on = models.DateField("申请日期")
    approved = models.BooleanField("是否批准", null=True, blank=True)
    reasons = models.TextField("理由", blank=True)
    decided_by = user_ref("决定人", optional=True)
    decided_at = models.DateTimeField("决定时间", null=True, blank=True)

    class Meta(CaseRecord.Meta):
        abstract = True


class PersonApplication(Application):
    """An application for one person's benefit (特困, 两项补贴, 临时救助, 高龄津贴 …)."""

    person = ref("registry.Person", "申请人")

    class Meta(Application.Meta):
        abstract = True


class DeliveryMethod(models.TextChoices):
    """送达方式 (《中华人民共和国行政诉讼法》/《民事诉讼法》 送达 rules that administrative practice follows)."""

    DIRECT = "direct", "直接送达"
    MAIL = "mail", "邮寄送达"
    LEFT = "left", "留置送达"
    ENTRUSTED = "entrusted", "委托送达"
    ELECTRONIC = "electronic", "电子送达"
    PUBLIC = "public", "公告送达"


class DecisionDelivery(models.Model):
    """送达: the day a decision notice of a case (决定书, 复核决定通知书 …) reached the person it is addressed
    to — the 60 days of 行政复议 and the 6 months of 行政诉讼 run from it. One per case and document;
    recorded by `services.decision_delivery_record` (not in the future, not before the decision)."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="deliveries")
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    document = models.CharField("文书", max_length=40, help_text="文书代码，如 tekun_decision")
    document_label = models.CharField("文书名称", max_length=60)
    delivered_on = models.DateField("送达日期")
    method = models.CharField("送达方式", max_length=12, choices=DeliveryMethod.choices)
    recipient = models.CharField("受送达人", max_length=100)
    note = models.CharField("备注", max_length=200, blank=True, help_text="如邮件单号、留置送达见证人")
    recorded_by = user_ref("登记人")
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "文书送达记录"
        verbose_name_plural = "文书送达记录"
        ordering = ["delivered_on", "id"]
        indexes = [region_prefix_index("delivery_region_prefix_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "document"],
                name="one_delivery_per_case_document",
                violation_error_message="该文书已登记送达",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.document_label} {self.delivered_on}"
