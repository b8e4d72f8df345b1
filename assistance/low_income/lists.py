"""The pages of the 低保边缘 / 刚性支出 register on the list kit (core/lists.py): the 认定台账 (filters: category,
state, expiring within 30 days, street/community, search; Excel of the current filter) and the 专项救助
转介名单 by department. Both start from the user's scope (selectors)."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.utils import timezone

from core.lists import Col, RecordList, RegionFilterSet

from ..rules import age_on
from . import rules, selectors
from .models import RENEWAL_WINDOW_DAYS, LowIncomeCategory, LowIncomeRecognition

STATES = (
    ("valid", "有效（含待续期）"),
    ("renewal", f"待续期（{RENEWAL_WINDOW_DAYS}天内到期）"),
    ("expired", "已到期未续期"),
    ("renewed", "已续期"),
    ("ended", "已终止"),
)


def _today() -> datetime.date:
    return timezone.localdate()


class RecognitionFilterSet(RegionFilterSet):
    category = django_filters.ChoiceFilter(
        label="认定类别", field_name="category", choices=LowIncomeCategory.choices, empty_label="全部类别"
    )
    state = django_filters.ChoiceFilter(
        label="状态", choices=STATES, method="filter_state", empty_label="全部状态"
    )
    expiring = django_filters.BooleanFilter(
        label=f"{RENEWAL_WINDOW_DAYS}天内到期", widget=forms.CheckboxInput, method="filter_expiring"
    )
    search_fields = (
        "household__number__istartswith",
        "household__head__name__contains",
        "case__number__istartswith",
    )

    def filter_state(self, queryset, name, value):
        today = _today()
        active = queryset.filter(status=LowIncomeRecognition.Status.ACTIVE)
        soon = today + datetime.timedelta(days=RENEWAL_WINDOW_DAYS)
        if value == "valid":
            return active.filter(valid_until__gte=today)
        if value == "renewal":
            return active.filter(valid_until__gte=today, valid_until__lte=soon)
        if value == "expired":
            return active.filter(valid_until__lt=today)
        if value in (LowIncomeRecognition.Status.RENEWED, LowIncomeRecognition.Status.ENDED):
            return queryset.filter(status=value)
        return queryset

    def filter_expiring(self, queryset, name, value):
        if not value:
            return queryset
        today = _today()
        return queryset.filter(
            status=LowIncomeRecognition.Status.ACTIVE,
            valid_until__gte=today,
            valid_until__lte=today + datetime.timedelta(days=RENEWAL_WINDOW_DAYS),
        )


def _state(recognition) -> str:
    return recognition.state_on(_today())


def _renewal_link(recognition) -> str:
    return recognition.renews.case.number if recognition.renews_id else ""


class RecognitionList(RecordList):
    name = "low_income"
    namespace = "assistance"
    title = "低收入家庭认定"
    heading = "低保边缘家庭和刚性支出困难家庭台账"
    model = LowIncomeRecognition
    permission = "benefits.view_entitlement"
    section = "assistance"
    filterset = RecognitionFilterSet
    default_sort = "valid_until"
    tiebreak = ("id",)
    count_unit = "户"
    search_placeholder = "户编号 / 户主 / 认定案件编号"
    empty_text = "没有符合条件的认定记录"
    list_intro = (
        "由低保申请的审核确认一并认定（一次申请、一次性确认）：不符合低保但符合低保边缘或刚性支出困难条件的家庭，"
        "以及单人保家庭。刚性支出困难家庭认定有效期不超过12个月；到期前30天列为待续期，"
        "续期须重新申请并经审核确认。"
    )
    detail_url_name = "assistance:dibao_detail"
    detail_field = "case_id"
    columns = [
        Col("户编号", "household.number", sort="household__number"),
        Col("户主", "household.head.name", link=True),
        Col("所属社区", "household.region.name", sort="region_code"),
        Col("认定类别", "get_category_display", sort="category"),
        Col("认定案件", "case.number"),
        Col("生效日期", "valid_from", kind="date", sort="valid_from"),
        Col("有效期至", "valid_until", kind="date", sort="valid_until"),
        Col("状态", _state),
        Col("续期自", _renewal_link),
        Col("认定依据", "basis", in_list=False),
        Col("终止原因", "end_reason", in_list=False),
    ]

    @classmethod
    def queryset(cls, user):
        return selectors.recognitions_visible_to(user)


# --- 专项救助转介名单 -----------------------------------------------------------------------------------

_DEPARTMENT_LABELS = {code: label for code, label, _rule in rules.REFERRAL_DEPARTMENTS}


class ReferralFilterSet(RegionFilterSet):
    department = django_filters.ChoiceFilter(
        label="转介部门",
        choices=[(code, label) for code, label, _rule in rules.REFERRAL_DEPARTMENTS],
        method="filter_department",
        empty_label="全部部门",
    )
    search_fields = ("name__contains", "household__number__istartswith")

    def filter_department(self, queryset, name, value):
        return queryset.filter(rules.referral_q(value, _today())) if value else queryset


def _departments(person) -> list[str]:
    return [_DEPARTMENT_LABELS[code] for code in rules.referrals_of(person, _today())]


def _age(person) -> int:
    return age_on(person.birth_date, _today())


def _condition(person) -> str:
    parts = []
    if person.disability_grade is not None:
        parts.append(f"{person.get_disability_category_display()}{person.disability_grade}级")
    if person.serious_illness:
        parts.append("重病")
    if person.labour_capacity != "full":
        parts.append(person.get_labour_capacity_display())
    return "、".join(parts)


class ReferralList(RecordList):
    name = "referrals"
    namespace = "assistance"
    title = "专项救助转介"
    heading = "专项救助转介名单"
    model = LowIncomeRecognition  # rows are persons (selectors.referral_persons_visible_to)
    permission = "benefits.view_entitlement"
    section = "assistance"
    filterset = ReferralFilterSet
    default_sort = "region_code"
    tiebreak = ("household_id", "id")
    count_unit = "人"
    search_placeholder = "姓名 / 户编号"
    empty_text = "没有需要转介的人员"
    list_intro = (
        "低保边缘家庭、刚性支出困难家庭（认定有效期内）的在世成员，按部门转介专项救助。转介条件："
        + "；".join(f"{label}：{rule}" for _code, label, rule in rules.REFERRAL_DEPARTMENTS)
        + "。"
    )
    detail_url_name = "registry:person_detail"
    columns = [
        Col("姓名", "name", sort="name", link=True),
        Col("户编号", "household.number"),
        Col("所属社区", "household.region.name", sort="region_code"),
        Col("年龄", _age),
        Col("残疾、疾病和劳动能力", _condition),
        Col("转介部门", _departments),
    ]

    @classmethod
    def queryset(cls, user):
        return selectors.referral_persons_visible_to(user, _today())


urlpatterns = [
    RecognitionList.list_path("low-income/"),
    ReferralList.list_path("low-income/referrals/"),
]
