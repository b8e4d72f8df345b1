"""Models of the social-assistance bureau (社会救助科).

A 低保 application is a bureau model on top of the shared case header (`workflow.Case`): the case carries
number, status and the transition log; the application carries what the household signed, the home visits
(入户调查) and the decision (审核确认结果)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.registry.querysets import ScopedQuerySet


class Category(models.TextChoices):
    """Categories one application is assessed for ("一次申请、一次性确认", seed 003)."""

    DIBAO = "dibao", "最低生活保障"
    TEKUN = "tekun", "特困人员救助供养"
    EDGE = "edge", "低保边缘家庭"
    RIGID = "rigid", "刚性支出困难家庭"


class AssistanceApplicationQuerySet(ScopedQuerySet):
    def open(self) -> AssistanceApplicationQuerySet:
        return self.filter(is_open=True)


class AssistanceApplication(models.Model):
    """社会救助申请 of one household; `case_type` is the workflow case type ("dibao")."""

    case = models.OneToOneField(
        "workflow.Case",
        verbose_name="案件",
        primary_key=True,
        on_delete=models.PROTECT,
        related_name="assistance_application",
    )
    case_type = models.CharField("业务类型", max_length=40, default="dibao", editable=False)
    household = models.ForeignKey(
        "registry.Household",
        verbose_name="申请家庭",
        on_delete=models.PROTECT,
        related_name="assistance_applications",
    )
    members = models.ManyToManyField(
        "registry.Person",
        verbose_name="申请保障成员",
        related_name="assistance_applications",
        blank=True,
    )
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    categories = models.JSONField("申请救助类别", default=list)
    promise_signed = models.BooleanField("已签署告知承诺书", default=False)
    authorisation_signed = models.BooleanField("已签署家庭经济状况核对授权书", default=False)
    staff_relative = models.BooleanField(
        "工作人员或村（社区）干部近亲属",
        default=False,
        help_text="须单独备案，并由区级民政部门入户核查",
    )
    applied_on = models.DateField("申请日期")
    notes = models.TextField("备注", blank=True)
    # Mirrors case.is_open (kept by the case type's closing effects) so the database can enforce
    # "one open application per household" with a conditional unique constraint.
    is_open = models.BooleanField("办理中", default=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="录入人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    objects = AssistanceApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = "社会救助申请"
        verbose_name_plural = "社会救助申请"
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["region_code"],
                name="assist_app_region_prefix_idx",
                opclasses=["varchar_pattern_ops"],
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "case_type"],
                condition=models.Q(is_open=True),
                name="one_open_assistance_application_per_household",
                violation_error_message="该家庭已有正在办理的同类申请",
            )
        ]

    def __str__(self) -> str:
        return str(self.case)

    @property
    def category_labels(self) -> list[str]:
        labels = dict(Category.choices)
        return [labels.get(c, c) for c in self.categories]


class Investigation(models.Model):
    """入户调查: a home visit by at least two staff (民发〔2021〕57号 第十五条) with the economic check."""

    class EconomicCheck(models.TextChoices):
        ELIGIBLE = "eligible", "收入、财产状况符合条件"
        INELIGIBLE = "ineligible", "收入或财产超出规定"
        PENDING = "pending", "核对结果待反馈"

    application = models.ForeignKey(
        AssistanceApplication,
        verbose_name="申请",
        on_delete=models.PROTECT,
        related_name="investigations",
    )
    visit_date = models.DateField("入户日期")
    visitors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="调查人员", related_name="assistance_investigations"
    )
    findings = models.TextField("调查情况")
    economic_check_result = models.CharField("经济状况核对结果", max_length=12, choices=EconomicCheck.choices)
    economic_check_note = models.TextField("核对说明", blank=True)
    district_visit = models.BooleanField("区级入户核查", default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "入户调查"
        verbose_name_plural = "入户调查"
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.application} {self.visit_date}"


class Decision(models.Model):
    """审核确认结果: approved with the monthly amount from the month after confirmation, or refused with
    written reasons (民发〔2021〕57号 第二十条、第二十一条)."""

    application = models.OneToOneField(
        AssistanceApplication, verbose_name="申请", on_delete=models.PROTECT, related_name="decision"
    )
    approved = models.BooleanField("是否批准")
    monthly_amount = models.DecimalField(
        "月保障金额（元）", max_digits=12, decimal_places=2, null=True, blank=True
    )
    start_month = models.DateField("起始发放月份", null=True, blank=True)
    reasons = models.TextField("理由", blank=True)
    explanation = models.JSONField("金额计算说明", default=dict, blank=True)
    entitlement = models.ForeignKey(
        "benefits.Entitlement",
        verbose_name="待遇资格",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="确认人", on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("确认时间", auto_now_add=True)

    class Meta:
        verbose_name = "审核确认结果"
        verbose_name_plural = "审核确认结果"

    def __str__(self) -> str:
        return f"{self.application} {'批准' if self.approved else '不予批准'}"
