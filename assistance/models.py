"""Models of the social-assistance bureau (社会救助科).

A 低保 application is a bureau model on top of the shared case header (`workflow.Case`): the case carries
number, status and the transition log; the application carries what the household signed, the home visits
(入户调查) and the decision (审核确认结果)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.benefits.models import entitlement_ref
from core.fields import ref, region_prefix_index, user_ref
from core.registry.choices import DisabilityCategory
from core.registry.querysets import ScopedQuerySet
from core.workflow.models import Application, CaseRecord, PersonApplication, one_open_per


class Category(models.TextChoices):
    """Categories one application is assessed for ("一次申请、一次性确认", seed 003)."""

    DIBAO = "dibao", "最低生活保障"
    TEKUN = "tekun", "特困人员救助供养"
    EDGE = "edge", "低保边缘家庭"
    RIGID = "rigid", "刚性支出困难家庭"


class PovertyCause(models.TextChoices):
    """致贫原因 — reported by cause in the monthly statistics to the municipal bureau."""

    ILLNESS = "illness", "因病"
    DISABILITY = "disability", "因残"
    EDUCATION = "education", "因学"
    DISASTER = "disaster", "因灾"
    NO_LABOUR = "no_labour", "缺乏劳动力"
    OTHER = "other", "其他"


class AssistanceApplication(Application):
    """社会救助申请 of one household; `case_type` is the workflow case type ("dibao")."""

    case_type = models.CharField("业务类型", max_length=40, default="dibao", editable=False)
    members = models.ManyToManyField(
        "registry.Person",
        verbose_name="申请保障成员",
        related_name="assistance_applications",
        blank=True,
    )
    categories = models.JSONField("申请救助类别", default=list)
    promise_signed = models.BooleanField("已签署告知承诺书", default=False)
    authorisation_signed = models.BooleanField("已签署家庭经济状况核对授权书", default=False)
    staff_relative = models.BooleanField(
        "工作人员或村（社区）干部近亲属",
        default=False,
        help_text="须单独备案，并由区级民政部门入户核查",
    )
    poverty_cause = models.CharField("主要致贫原因", max_length=12, choices=PovertyCause.choices, blank=True)
    # 刚性支出困难家庭: the household's spending of the past 12 months by kind (元, strings of Decimals,
    # keys of assistance.low_income.rules.RIGID_SPENDING_KINDS); empty = not declared.
    rigid_spending = models.JSONField("近12个月刚性支出", default=dict, blank=True)
    notes = models.TextField("备注", blank=True)

    class Meta(Application.Meta):
        verbose_name = "社会救助申请"
        verbose_name_plural = "社会救助申请"
        indexes = [region_prefix_index("assist_app_region_prefix_idx")]
        constraints = [
            one_open_per(
                "household",
                "case_type",
                name="one_open_assistance_application_per_household",
                message="该家庭已有正在办理的同类申请",
            )
        ]

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
    recorded_by = user_ref("登记人")
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
    entitlement = entitlement_ref("待遇资格")
    decided_by = user_ref("确认人")
    decided_at = models.DateTimeField("确认时间", auto_now_add=True)

    class Meta:
        verbose_name = "审核确认结果"
        verbose_name_plural = "审核确认结果"

    def __str__(self) -> str:
        return f"{self.application} {'批准' if self.approved else '不予批准'}"


class TimeLimitExtension(models.Model):
    """延长办理期限: the 低保 whole-process limit counted from 受理 (Parameter dibao.total_working_days, 30
    working days) extended once to dibao.extended_working_days (45) with a recorded reason (民发〔2021〕57号
    第二十条: 特殊情况可延长至45个工作日). One per case (the primary key); decided by the section's 科长
    (services.dibao_extend_time_limit); the case's transition log records it too."""

    case = models.OneToOneField(
        "workflow.Case",
        verbose_name="案件",
        primary_key=True,
        on_delete=models.PROTECT,
        related_name="time_limit_extension",
    )
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    working_days = models.PositiveSmallIntegerField("延长后办理总时限（工作日）")
    deadline = models.DateField("延长后办理期限")
    reason = models.TextField("延长理由")
    extended_by = user_ref("决定人")
    extended_at = models.DateTimeField("决定时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "延长办理期限"
        verbose_name_plural = "延长办理期限"
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="time_limit_extension_has_reason"),
            models.CheckConstraint(condition=models.Q(working_days__gt=0), name="time_limit_extension_days"),
        ]

    def __str__(self) -> str:
        return f"{self.case} 延长至{self.working_days}个工作日"


class SupportMode(models.TextChoices):
    CENTRALISED = "centralised", "集中供养"
    DISPERSED = "dispersed", "分散供养"


class TekunApplication(PersonApplication):
    """特困人员救助供养 of one person (民发〔2021〕43号). Per person, not per household: several members of one
    household may each apply. A minor gets no 公示 (第十七条); a child who is also an orphan is covered as
    孤儿 by children's welfare, not here."""

    promise_signed = models.BooleanField("已签署告知承诺书", default=False)
    authorisation_signed = models.BooleanField("已签署家庭经济状况核对授权书", default=False)
    is_minor = models.BooleanField("未成年人", default=False, editable=False, help_text="未成年人不公示")
    # 认定条件 (第六条至第十一条)
    unable_to_work_reason = models.CharField("无劳动能力情形", max_length=100, blank=True)
    no_income_source = models.BooleanField("无生活来源", null=True, blank=True)
    no_supporter = models.BooleanField("无履行义务能力的法定赡养、抚养、扶养义务人", null=True, blank=True)
    # 生活自理能力评估: six items, True = can do it (第十三条)
    self_care_items = models.JSONField("生活自理能力评估（六项）", default=dict, blank=True)
    self_care_tier = models.CharField("照料护理档次", max_length=10, blank=True)
    support_mode = models.CharField("供养方式", max_length=12, choices=SupportMode.choices, blank=True)
    institution_name = models.CharField("供养机构", max_length=100, blank=True, help_text="集中供养时填写")
    # 集中供养: the institution of the facility register (core.facilities) that is paid the basic living fee.
    facility = ref("facilities.Facility", "供养机构（服务设施）", optional=True)
    investigation_findings = models.TextField("调查情况", blank=True)
    investigated_on = models.DateField("调查日期", null=True, blank=True)
    # 决定
    start_month = models.DateField("起始发放月份", null=True, blank=True)
    basic_entitlement = entitlement_ref("基本生活费资格")
    care_entitlement = entitlement_ref("照料护理费资格")

    class Meta(PersonApplication.Meta):
        verbose_name = "特困人员申请"
        verbose_name_plural = "特困人员申请"
        indexes = [region_prefix_index("tekun_app_region_prefix_idx")]
        constraints = [
            one_open_per(
                "person",
                name="one_open_tekun_application_per_person",
                message="该人员已有正在办理的特困人员申请",
            )
        ]


class TempAssistanceKind(models.TextChoices):
    EMERGENCY = "emergency", "急难型"
    EXPENSE = "expense", "支出型"


class TempAssistanceCause(models.TextChoices):
    ACCIDENT = "accident", "意外事故"
    FIRE = "fire", "火灾等灾害"
    SUDDEN_ILLNESS = "sudden_illness", "突发重大疾病"
    MEDICAL = "medical", "医疗支出"
    EDUCATION = "education", "教育支出"
    OTHER = "other", "其他原因"


class TempAssistanceCase(PersonApplication):
    """临时救助 (国发〔2014〕47号, 民发〔2018〕23号): one-off help, decided by the township within its limit,
    above it by the district; 先行救助 records help given first and paperwork after."""

    class Level(models.TextChoices):
        TOWNSHIP = "township", "乡镇（街道）审批"
        DISTRICT = "district", "区民政局审批"

    # Empty for a person without a household in the district, helped where the emergency happened
    # (急难发生地, DOMAIN.md): the case is then scoped by the community of `emergency_address`.
    household = ref("registry.Household", "申请家庭", optional=True)
    emergency_address = models.CharField("急难发生地", max_length=200, blank=True)
    kind = models.CharField("救助类型", max_length=10, choices=TempAssistanceKind.choices)
    cause = models.CharField("困难原因", max_length=20, choices=TempAssistanceCause.choices)
    cause_detail = models.TextField("困难情况说明")
    year = models.PositiveSmallIntegerField("救助年度", editable=False)
    standard_multiple = models.DecimalField(
        "按月标准倍数", max_digits=6, decimal_places=2, null=True, blank=True
    )
    proposed_amount = models.DecimalField(
        "拟救助金额（元）", max_digits=12, decimal_places=2, null=True, blank=True
    )
    approval_level = models.CharField("审批层级", max_length=10, choices=Level.choices, blank=True)
    is_advance = models.BooleanField("先行救助", default=False)
    advance_given_on = models.DateField("先行救助日期", null=True, blank=True)
    advance_amount = models.DecimalField(
        "先行救助金额（元）", max_digits=12, decimal_places=2, null=True, blank=True
    )
    approved_amount = models.DecimalField(
        "批准金额（元）", max_digits=12, decimal_places=2, null=True, blank=True
    )
    payment_line = ref("benefits.PaymentLine", "发放记录", optional=True)
    earlier_case = ref("self", "同年同因的前次救助", optional=True)

    class Meta(PersonApplication.Meta):
        verbose_name = "临时救助"
        verbose_name_plural = "临时救助"
        indexes = [
            region_prefix_index("temp_case_region_prefix_idx"),
            models.Index(fields=["person", "cause", "year"], name="temp_case_same_cause_idx"),
        ]


class DisabilitySubsidy(models.TextChoices):
    LIVING = "living", "困难残疾人生活补贴"
    CARE = "care", "重度残疾人护理补贴"


class DisabilitySubsidyApplication(PersonApplication):
    """残疾人两项补贴 (国发〔2015〕52号): paid monthly from the month of application."""

    class CertGeneration(models.IntegerChoices):
        SECOND = 2, "第二代"
        THIRD = 3, "第三代"

    subsidies = models.JSONField("申请补贴", default=list)
    cert_no = models.CharField("残疾证号", max_length=32)
    cert_generation = models.PositiveSmallIntegerField("残疾证版本", choices=CertGeneration.choices)
    disability_category = models.CharField("残疾类别", max_length=16)
    disability_grade = models.PositiveSmallIntegerField("残疾等级")
    long_term_care = models.BooleanField("需长期照护（6个月以上）", default=False)
    federation_checked = models.BooleanField("残联已核定等级", null=True, blank=True)
    eligibility = models.JSONField("资格审核结果", default=dict, blank=True)
    living_entitlement = entitlement_ref("生活补贴资格")
    care_entitlement = entitlement_ref("护理补贴资格")

    class Meta(PersonApplication.Meta):
        verbose_name = "残疾人两项补贴申请"
        verbose_name_plural = "残疾人两项补贴申请"
        indexes = [region_prefix_index("disab_app_region_prefix_idx")]
        constraints = [
            one_open_per(
                "person",
                name="one_open_disability_application_per_person",
                message="该人员已有正在办理的两项补贴申请",
            )
        ]

    @property
    def disability_category_label(self) -> str:
        """The category as the 残疾人证 names it (肢体残疾 …), not its code."""
        return dict(DisabilityCategory.choices).get(self.disability_category, self.disability_category)


class DibaoReview(CaseRecord):
    """低保动态管理复核: each household is reviewed yearly (stable) or every 6 months (unstable income or
    members able to work); the county decides 增发/减发/停发 with written reasons, or a 渐退期."""

    class Frequency(models.TextChoices):
        YEARLY = "yearly", "每年复核"
        HALF_YEARLY = "half_yearly", "每半年复核"

    class Outcome(models.TextChoices):
        KEEP = "keep", "维持"
        INCREASE = "increase", "增发"
        DECREASE = "decrease", "减发"
        STOP = "stop", "停发"
        TAPER = "taper", "渐退"

    entitlement = models.ForeignKey(
        "benefits.Entitlement",
        verbose_name="低保资格",
        on_delete=models.PROTECT,
        related_name="dibao_reviews",
    )
    household = models.ForeignKey(
        "registry.Household", verbose_name="家庭", on_delete=models.PROTECT, related_name="dibao_reviews"
    )
    frequency = models.CharField("复核周期", max_length=12, choices=Frequency.choices)
    due_on = models.DateField("应复核日期")
    findings = models.TextField("复核情况", blank=True)
    previous_amount = models.DecimalField(
        "原月保障金额", max_digits=12, decimal_places=2, null=True, blank=True
    )
    new_amount = models.DecimalField("新月保障金额", max_digits=12, decimal_places=2, null=True, blank=True)
    outcome = models.CharField("复核结论", max_length=10, choices=Outcome.choices, blank=True)
    taper_months = models.PositiveSmallIntegerField("渐退期（月）", null=True, blank=True)
    effective_month = models.DateField("变更起始月份", null=True, blank=True)
    reasons = models.TextField("理由", blank=True)

    class Meta(CaseRecord.Meta):
        verbose_name = "低保动态复核"
        verbose_name_plural = "低保动态复核"
        ordering = ["due_on"]
        indexes = [region_prefix_index("dibao_review_region_prefix_idx")]
        constraints = [
            one_open_per(
                "entitlement", name="one_open_review_per_entitlement", message="该低保家庭已有正在办理的复核"
            )
        ]


# ---------------------------------------------------------------------------------------------------
# 特困 after approval (issue 13 item 9): re-assessments, yearly reviews and minors' re-judgements as
# to-dos, terminations by decision, care agreements of 分散供养.
# ---------------------------------------------------------------------------------------------------


class TekunTaskKind(models.TextChoices):
    REASSESSMENT = "reassessment", "生活自理能力重新评估"
    YEARLY_REVIEW = "yearly_review", "年度复核"
    MINOR_REJUDGEMENT = "minor_rejudgement", "未成年人重新认定"


class TekunTaskOutcome(models.TextChoices):
    TIER_KEPT = "tier_kept", "评估后照料护理档次不变"
    TIER_CHANGED = "tier_changed", "评估后调整照料护理档次"
    CONTINUED = "continued", "继续救助供养"
    CONTINUED_SCHOOL = "continued_school", "在校就读，继续救助供养"
    TERMINATED = "terminated", "终止救助供养"


class TekunTask(models.Model):
    """A to-do on a person supported as 特困 (the approved application names the person and both
    entitlements): a self-care re-assessment after a change (within 10 working days, 民发〔2021〕43号),
    the yearly review, or a minor's re-judgement at 16/18. Open until its outcome is recorded; overdue
    after `due_on`."""

    application = models.ForeignKey(
        TekunApplication, verbose_name="特困人员认定", on_delete=models.PROTECT, related_name="tasks"
    )
    person = ref("registry.Person", "特困人员")
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    kind = models.CharField("事项", max_length=20, choices=TekunTaskKind.choices)
    reason = models.CharField("发起原因", max_length=200)
    opened_on = models.DateField("发起日期")
    due_on = models.DateField("办理时限")
    is_open = models.BooleanField("办理中", default=True)
    outcome = models.CharField("办理结果", max_length=20, choices=TekunTaskOutcome.choices, blank=True)
    finding = models.TextField("办理情况", blank=True)
    # A re-assessment: the six items, the tier and the month it applies from; a school continuation:
    # the proof and the date until which it holds.
    data = models.JSONField("办理数据", default=dict, blank=True)
    opened_by = user_ref("发起人", optional=True)
    closed_by = user_ref("办结人", optional=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "特困人员待办事项"
        verbose_name_plural = "特困人员待办事项"
        ordering = ["due_on", "pk"]
        indexes = [region_prefix_index("tekun_task_region_idx")]
        constraints = [
            one_open_per(
                "application",
                "kind",
                name="one_open_tekun_task_per_kind",
                message="该特困人员已有正在办理的同类事项",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（{self.person_id}）"


class TekunTerminationReason(models.TextChoices):
    """终止救助供养的情形 (民发〔2021〕43号 第二十二条; minors: DOMAIN.md "ends at 18 unless in school")."""

    DEATH = "death", "死亡或者被宣告死亡、宣告失踪"
    WORK_ABILITY = "work_ability", "具备或者恢复劳动能力"
    IMPRISONMENT = "imprisonment", "依法被判处刑罚，且在监狱内服刑"
    INCOME = "income", "收入和财产状况不再符合特困人员认定条件"
    SUPPORTER = "supporter", "法定义务人具有了履行义务能力或者新增具有履行义务能力的法定义务人"
    VOLUNTARY = "voluntary", "自愿申请退出救助供养"
    MINOR_AGE = "minor_age", "未成年人年满18周岁且不在校就读"


class TekunTermination(models.Model):
    """终止救助供养 by decision: the reason from the fixed list, written details, the month from which
    nothing is paid; both entitlements end with the month before. Printed as a 终止决定书."""

    number = models.CharField("决定书编号", max_length=32, unique=True)
    application = models.OneToOneField(
        TekunApplication, verbose_name="特困人员认定", on_delete=models.PROTECT, related_name="termination"
    )
    person = ref("registry.Person", "特困人员")
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    reason = models.CharField("终止原因", max_length=20, choices=TekunTerminationReason.choices)
    details = models.TextField("终止理由")
    effective_month = models.DateField("终止月份", help_text="自该月起停止发放")
    task = models.ForeignKey(
        TekunTask, verbose_name="来源事项", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = user_ref("决定人")
    decided_at = models.DateTimeField("决定时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "特困人员终止救助供养决定"
        verbose_name_plural = "特困人员终止救助供养决定"
        ordering = ["-decided_at"]
        indexes = [region_prefix_index("tekun_term_region_idx")]

    def __str__(self) -> str:
        return self.number


class TekunCareAgreement(models.Model):
    """照料服务协议 of a person supported at home (分散供养): who cares for them, what and how often, signed
    on a date and valid to a date (民发〔2021〕43号: 分散供养 persons who lost self-care get a carer)."""

    application = models.ForeignKey(
        TekunApplication,
        verbose_name="特困人员认定",
        on_delete=models.PROTECT,
        related_name="care_agreements",
    )
    person = ref("registry.Person", "特困人员")
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    carer_name = models.CharField("照料人姓名", max_length=50)
    carer_relation = models.CharField("与特困人员关系", max_length=30)
    carer_phone = models.CharField("照料人电话", max_length=20)
    services = models.TextField("照料服务内容")
    frequency = models.CharField("服务频次", max_length=50)
    signed_on = models.DateField("签订日期")
    valid_until = models.DateField("有效期至")
    recorded_by = user_ref("登记人")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "特困人员照料服务协议"
        verbose_name_plural = "特困人员照料服务协议"
        ordering = ["-signed_on", "-pk"]
        indexes = [region_prefix_index("tekun_care_region_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("signed_on")),
                name="tekun_care_valid_after_signed",
            )
        ]

    def __str__(self) -> str:
        return f"{self.carer_name}（{self.signed_on}）"


# The models of the app's own modules (委托确认抽查, 低保边缘/刚性支出认定, 拟停保告知): in this app and its migrations.
from .delegation.models import DelegationCheck, DelegationSample  # noqa: E402, F401
from .low_income.models import LowIncomeCategory, LowIncomeRecognition  # noqa: E402, F401
from .review.models import StopPreNotice  # noqa: E402, F401
