"""公示名单 as a PDF: the notices in progress in a community (or every community in the user's scope, one
page each), ready to print and post on the community's notice board."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from itertools import groupby

from django import forms
from django.utils import timezone

from core.pdf import render_pdf
from core.registry.choices import RegionLevel
from core.registry.models import Region
from core.registry.querysets import user_scope_prefix
from core.workflow import selectors as workflow_selectors
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


@dataclass
class NoticeGroup:
    street_name: str
    community_name: str
    notices: list[PublicNotice]


def notice_groups(user, community_code: str = "", today: datetime.date | None = None) -> list[NoticeGroup]:
    """The 公示 in progress in the user's scope (through the workflow selector), grouped by community."""
    notices = workflow_selectors.notices_open_in(user, today=today).select_related("case__region__parent")
    if community_code:
        notices = notices.filter(region_code=community_code)
    groups = []
    for _, items in groupby(notices[:MAX_NOTICES], key=lambda n: n.case.region_id):
        items = list(items)
        region = items[0].case.region
        groups.append(NoticeGroup(region.parent.name if region.parent_id else "", region.name, items))
    return groups


def notice_list_pdf(user, community_code: str = "") -> tuple[bytes, str, int]:
    """The PDF, its download name and how many notices it lists."""
    today = timezone.localdate()
    groups = notice_groups(user, community_code, today=today)
    if community_code:
        region = Region.objects.filter(code=community_code).first()
        scope_label = region.name if region else community_code
    else:
        scope_label = "全部社区（村）"
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
