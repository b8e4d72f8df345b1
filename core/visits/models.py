"""探访关爱: who is in which programme (Enrollment), the visits (Visit) and which enrolments each visit
served (VisitEnrollment), and the suggestions a caseworker turned down (SuggestionDismissal).

Scope: every row carries the `region_code` of the person's community; `visible_to(user)` also keeps a
district user whose roles are all district roles (科室经办人, 科长) to the programmes of the sections they
work in (selectors.visible_programme_codes)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q

from core.fields import ref, region_prefix_index, user_ref
from core.registry.querysets import ScopedQuerySet

from .programmes import RiskLevel


def _programme_codes(user) -> set[str] | None:
    from .selectors import visible_programme_codes

    return visible_programme_codes(user)


class EnrollmentQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        rows = super().visible_to(user)
        codes = _programme_codes(user)
        return rows if codes is None else rows.filter(programme__in=codes)

    def open_on(self, day) -> EnrollmentQuerySet:
        return self.filter(Q(left_on__isnull=True) | Q(left_on__gte=day), joined_on__lte=day)


class VisitQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        rows = super().visible_to(user)
        codes = _programme_codes(user)
        if codes is None:
            return rows
        served = VisitEnrollment.objects.filter(visit=OuterRef("pk"), programme__in=codes)
        return rows.filter(Exists(served))


class VisitWay(models.TextChoices):
    HOME = "home", "入户"
    PHONE = "phone", "电话"
    VIDEO = "video", "视频"


class Need(models.TextChoices):
    DAILY_CARE = "daily_care", "生活照料"
    MEDICAL = "medical", "医疗"
    COMFORT = "comfort", "精神慰藉"
    FINANCIAL = "financial", "经济困难"
    SAFETY = "safety", "安全隐患"
    OTHER = "other", "其他"


class Enrollment(models.Model):
    """A person's membership of one programme, from `joined_on` to `left_on` (open while empty)."""

    person = ref("registry.Person", "探访对象")
    programme = models.CharField("探访项目", max_length=40)
    joined_on = models.DateField("纳入日期")
    left_on = models.DateField("退出日期", null=True, blank=True)
    leave_reason = models.CharField("退出原因", max_length=200, blank=True)
    rule_text = models.CharField("纳入依据", max_length=300)
    confirmed_by = user_ref("确认人")
    confirmed_at = models.DateTimeField("确认时间", auto_now_add=True)
    left_by = user_ref("退出登记人", optional=True)
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    # Kept by the visit service (services._refresh_due): the latest visit that served this enrolment, its
    # risk level, and the day the next visit is due — so the due and overdue lists are one indexed query.
    last_visited_on = models.DateField("最近探访日期", null=True, blank=True)
    last_risk_level = models.CharField("最近风险等级", max_length=8, choices=RiskLevel.choices, blank=True)
    next_due_on = models.DateField("下次应探访日期")

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        verbose_name = "探访对象"
        verbose_name_plural = "探访对象"
        indexes = [
            region_prefix_index("visit_enrol_region_idx"),
            models.Index(
                fields=["next_due_on"], name="visit_enrol_due_idx", condition=Q(left_on__isnull=True)
            ),
            models.Index(fields=["programme", "joined_on"], name="visit_enrol_prog_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "programme"],
                condition=Q(left_on__isnull=True),
                name="one_open_enrollment_per_programme",
                violation_error_message="该人员已在该探访项目中",
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="enrollment_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme_title} #{self.pk}"

    @property
    def programme_title(self) -> str:
        from .programmes import programme_title

        return programme_title(self.programme)

    @property
    def is_open(self) -> bool:
        return self.left_on is None


class Visit(models.Model):
    """One visit of a person; it serves every enrolment of the person open on `visited_on`."""

    person = ref("registry.Person", "探访对象")
    visited_on = models.DateField("探访日期")
    way = models.CharField("探访方式", max_length=8, choices=VisitWay.choices)
    visitors = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name="探访人员", related_name="+")
    findings = models.TextField("探访情况", max_length=2000)
    risk_level = models.CharField("风险等级", max_length=8, choices=RiskLevel.choices)
    needs = models.JSONField("发现的需求", default=list, blank=True)
    needs_other = models.CharField("其他需求", max_length=200, blank=True)
    follow_up = models.CharField("跟进事项", max_length=500, blank=True)
    follow_up_due = models.DateField("跟进期限", null=True, blank=True)
    follow_up_done_on = models.DateField("跟进完成日期", null=True, blank=True)
    follow_up_done_by = user_ref("跟进完成人", optional=True)
    follow_up_result = models.CharField("跟进结果", max_length=500, blank=True)
    region_code = models.CharField("区划代码", max_length=12, editable=False)
    recorded_by = user_ref("录入人")
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)
    enrollments = models.ManyToManyField(
        Enrollment, through="VisitEnrollment", verbose_name="服务的探访项目", related_name="visits"
    )

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = "探访记录"
        verbose_name_plural = "探访记录"
        indexes = [
            region_prefix_index("visit_region_idx"),
            models.Index(fields=["person", "visited_on"], name="visit_person_day_idx"),
            models.Index(
                fields=["follow_up_due"],
                name="visit_follow_up_open_idx",
                condition=Q(follow_up_done_on__isnull=True) & ~Q(follow_up=""),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(follow_up_due__isnull=True) | Q(follow_up_due__gte=models.F("visited_on")),
                name="visit_follow_up_after_visit",
            ),
            models.CheckConstraint(
                condition=Q(follow_up_done_on__isnull=True) | ~Q(follow_up=""),
                name="visit_follow_up_done_needs_item",
            ),
        ]

    def __str__(self) -> str:
        return f"探访 #{self.pk}"

    @property
    def needs_labels(self) -> list[str]:
        labels = dict(Need.choices)
        found = [labels.get(code, code) for code in self.needs or []]
        if self.needs_other:
            found.append(self.needs_other)
        return found

    @property
    def follow_up_open(self) -> bool:
        return bool(self.follow_up) and self.follow_up_done_on is None


class VisitEnrollment(models.Model):
    """A visit counted for one enrolment (programme): one row per (visit, enrolment)."""

    visit = models.ForeignKey(Visit, verbose_name="探访记录", on_delete=models.PROTECT, related_name="links")
    enrollment = models.ForeignKey(
        Enrollment, verbose_name="探访对象", on_delete=models.PROTECT, related_name="visit_links"
    )
    programme = models.CharField("探访项目", max_length=40)
    visited_on = models.DateField("探访日期")
    region_code = models.CharField("区划代码", max_length=12, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "探访记录所服务的项目"
        verbose_name_plural = "探访记录所服务的项目"
        indexes = [models.Index(fields=["enrollment", "visited_on"], name="visit_link_enrol_day_idx")]
        constraints = [
            models.UniqueConstraint(fields=["visit", "enrollment"], name="one_link_per_visit_enrollment")
        ]

    def __str__(self) -> str:
        return f"探访 #{self.visit_id} → {self.programme}"


class SuggestionDismissal(models.Model):
    """A caseworker found that a suggested person should not join a programme (with the reason): the
    suggestion list no longer shows them. Enrolling them by hand is still possible."""

    person = ref("registry.Person", "人员")
    programme = models.CharField("探访项目", max_length=40)
    reason = models.CharField("不纳入原因", max_length=200)
    dismissed_by = user_ref("处理人")
    dismissed_at = models.DateTimeField("处理时间", auto_now_add=True)
    region_code = models.CharField("区划代码", max_length=12, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "不予纳入的建议对象"
        verbose_name_plural = "不予纳入的建议对象"
        indexes = [region_prefix_index("visit_dismiss_region_idx")]
        constraints = [
            models.UniqueConstraint(fields=["person", "programme"], name="one_dismissal_per_programme")
        ]

    def __str__(self) -> str:
        return f"不予纳入 {self.programme} #{self.person_id}"
