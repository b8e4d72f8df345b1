"""Lists posted on the community's notice board, as PDFs (one community per page, ready to print):

- 公示名单: the notices in progress in a community (or every community in the user's scope), each with the
  household's size and the monthly amount proposed today — asked of each case type's `notice_figures`
  hook (core.workflow.links), so a bureau supplies its own figures;
- 保障对象张榜名单: the households and persons receiving a benefit now, names partly masked
  (core.registry.masking.mask_name), with household size and monthly amount — rows supplied by the bureaus
  that register a source here (`register_posted_source`, e.g. assistance/published.py).

Both print the 监督电话 (Region.complaint_phone) of the community's street, else of its district; when
neither is set the line is left out and the text names the bureau instead."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby

from django import forms
from django.utils import timezone

from core.accounts.sections import section_visible
from core.pdf import render_pdf
from core.registry.choices import RegionLevel
from core.registry.masking import mask_name
from core.registry.models import Region
from core.registry.querysets import user_scope_prefix
from core.workflow import selectors as workflow_selectors
from core.workflow.links import NoticeFigures, notice_figures
from core.workflow.models import PublicNotice

from .registry import PDF, BuildContext, ReportParamsForm, ReportResult

MAX_NOTICES = 5000


def communities_in_scope(user) -> list[tuple[str, str]]:
    prefix = user_scope_prefix(user)
    if prefix is None:
        return []
    regions = Region.objects.filter(level=RegionLevel.COMMUNITY, is_active=True, code__startswith=prefix)
    return [
        (code, f"{street}{name}" if street else name)
        for code, name, street in regions.order_by("code").values_list("code", "name", "parent__name")
    ]


class NoticeListForm(ReportParamsForm):
    community = forms.ChoiceField(label="社区（村）", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["community"].choices = [("", "本人数据范围内全部社区（村）"), *communities_in_scope(user)]
        self.fields["community"].error_messages["invalid_choice"] = "所选社区（村）不在您的数据范围内"

    def describe(self) -> str:
        code = self.cleaned_data.get("community")
        return dict(self.fields["community"].choices).get(code, "") if code else "全部社区（村）"


def complaint_phones(community_codes) -> dict[str, str]:
    """{community code: 监督电话} — the first set of the community's, its street's and its district's
    Region.complaint_phone ("" when none is). One query."""
    codes = set(community_codes)
    chains = {code: (code, f"{code[:9]}000", f"{code[:6]}000000") for code in codes}
    phones = dict(
        Region.objects.filter(code__in={c for chain in chains.values() for c in chain})
        .exclude(complaint_phone="")
        .values_list("code", "complaint_phone")
    )
    return {code: next((phones[c] for c in chain if c in phones), "") for code, chain in chains.items()}


@dataclass
class NoticeRow:
    notice: PublicNotice
    figures: NoticeFigures


@dataclass
class NoticeGroup:
    street_name: str
    community_name: str
    notices: list[NoticeRow]
    complaint_phone: str = ""


def notice_groups(user, community_code: str = "", today: datetime.date | None = None) -> list[NoticeGroup]:
    """The 公示 in progress in the user's scope (through the workflow selector), grouped by community, each
    with its case type's figures (家庭人口, 拟保障金额) — a fixed number of queries for any number of rows."""
    today = today or timezone.localdate()
    notices = workflow_selectors.notices_open_in(user, today=today).select_related("case__region__parent")
    if community_code:
        notices = notices.filter(region_code=community_code)
    notices = list(notices[:MAX_NOTICES])
    figures = notice_figures([n.case for n in notices], today)
    phones = complaint_phones({n.case.region.code for n in notices})
    groups = []
    for _, items in groupby(notices, key=lambda n: n.case.region_id):
        items = list(items)
        region = items[0].case.region
        rows = [NoticeRow(n, figures.get(n.case_id, NoticeFigures())) for n in items]
        groups.append(
            NoticeGroup(
                region.parent.name if region.parent_id else "", region.name, rows, phones[region.code]
            )
        )
    return groups


def _scope_label(community_code: str) -> str:
    if community_code:
        region = Region.objects.filter(code=community_code).first()
        return region.name if region else community_code
    return "全部社区（村）"


def notice_list_pdf(user, community_code: str = "") -> tuple[bytes, str, int]:
    """The PDF, its download name and how many notices it lists."""
    today = timezone.localdate()
    groups = notice_groups(user, community_code, today=today)
    scope_label = _scope_label(community_code)
    content = render_pdf(
        "reports/print/notice_list.html", {"groups": groups, "today": today, "scope_label": scope_label}
    )
    filename = f"公示名单_{scope_label}_{today:%Y%m%d}.pdf"
    return content, filename, sum(len(g.notices) for g in groups)


def build_notice_list(ctx: BuildContext) -> ReportResult:
    ctx.progress(10, "正在读取公示信息")
    content, filename, count = notice_list_pdf(ctx.user, ctx.params.get("community") or "")
    ctx.output.write(content)
    return ReportResult(filename=filename, content_type=PDF, record_count=count)


# ---------------------------------------------------------------------------------------------------
# 保障对象张榜名单
# ---------------------------------------------------------------------------------------------------


@dataclass
class PostedRow:
    """One household (or person) on the 张榜名单, as a bureau's source gives it: the full name — masked
    here, never printed — and the figures."""

    region_code: str
    category: str
    name: str
    household_size: int | None
    covered: int | None
    monthly_amount: Decimal | None

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)


# A source: (user, community code or "", day) -> rows in the user's scope (its own visible_to), set-based.
PostedSource = Callable[[object, str, datetime.date], list[PostedRow]]
# section code -> source: district staff see only the sections they hold a role in (section_visible).
_POSTED_SOURCES: dict[str, PostedSource] = {}


def register_posted_source(section: str, source: PostedSource) -> None:
    """A bureau's rows for the 张榜名单, under its section's code (call on import from its
    AppConfig.ready())."""
    _POSTED_SOURCES[section] = source


@dataclass
class PostedGroup:
    street_name: str
    community_name: str
    rows: list[PostedRow] = field(default_factory=list)
    complaint_phone: str = ""

    @property
    def total_amount(self) -> Decimal:
        return sum((r.monthly_amount or Decimal("0") for r in self.rows), Decimal("0"))

    @property
    def persons(self) -> int:
        return sum(r.covered or 0 for r in self.rows)


def posted_groups(user, community_code: str = "", today: datetime.date | None = None) -> list[PostedGroup]:
    """Every registered source's rows in the user's scope, by community (code order), then category and
    masked name."""
    today = today or timezone.localdate()
    if user_scope_prefix(user) is None:
        return []
    rows = [
        row
        for section, source in _POSTED_SOURCES.items()
        if section_visible(user, section)
        for row in source(user, community_code, today)
    ]
    rows.sort(key=lambda r: (r.region_code, r.category, r.masked_name))
    regions = {
        r.code: r
        for r in Region.objects.filter(code__in={r.region_code for r in rows}).select_related("parent")
    }
    phones = complaint_phones(regions)
    groups = []
    for code, items in groupby(rows, key=lambda r: r.region_code):
        region = regions.get(code)
        street = region.parent.name if region is not None and region.parent_id else ""
        groups.append(PostedGroup(street, region.name if region else code, list(items), phones.get(code, "")))
    return groups


def posted_list_pdf(user, community_code: str = "") -> tuple[bytes, str, int]:
    """The 张榜名单 PDF, its download name and how many households/persons it lists."""
    today = timezone.localdate()
    groups = posted_groups(user, community_code, today=today)
    scope_label = _scope_label(community_code)
    content = render_pdf(
        "reports/print/posted_list.html", {"groups": groups, "today": today, "scope_label": scope_label}
    )
    filename = f"保障对象张榜名单_{scope_label}_{today:%Y%m%d}.pdf"
    return content, filename, sum(len(g.rows) for g in groups)


def build_posted_list(ctx: BuildContext) -> ReportResult:
    ctx.progress(10, "正在读取保障对象")
    content, filename, count = posted_list_pdf(ctx.user, ctx.params.get("community") or "")
    ctx.output.write(content)
    return ReportResult(filename=filename, content_type=PDF, record_count=count)
