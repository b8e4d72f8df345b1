"""Links other apps put on the 公示名单 page (e.g. the PDF from `reports`) without the case engine importing
them: an app registers a link in its AppConfig.ready(); the page shows the ones the user may use, for the
whole scope and, with `?community=<12-digit code>`, for each community."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class NoticeListLink:
    label: str
    url_name: str
    permission: str | None = None
    icon: str = "file-earmark-pdf"


_LINKS: list[NoticeListLink] = []


def register_notice_list_link(link: NoticeListLink) -> None:
    if all(existing.url_name != link.url_name for existing in _LINKS):
        _LINKS.append(link)


def notice_list_links(user) -> list[tuple[NoticeListLink, str]]:
    result = []
    for link in _LINKS:
        if link.permission and not user.has_perm(link.permission):
            continue
        try:
            result.append((link, reverse(link.url_name)))
        except NoReverseMatch:
            continue
    return result


@dataclass(frozen=True)
class NoticeFigures:
    """What the printed 公示名单 says of one case besides its applicant: the household's size and the
    monthly amount proposed on the day the list is printed (None: not known, printed "—"); `note` says why
    when it matters (不符合条件, no standard in force …)."""

    household_size: int | None = None
    monthly_amount: Decimal | None = None
    note: str = ""


def notice_figures(cases: Iterable, on_date: datetime.date) -> dict[int, NoticeFigures]:
    """{case id: NoticeFigures} for cases in 公示, asked of each case type's `notice_figures` hook (a
    "module.function" on the CaseType) once per type, whatever the number of cases."""
    from .engine import find_case_type

    by_type: dict[str, list] = defaultdict(list)
    for case in cases:
        by_type[case.case_type].append(case)
    result: dict[int, NoticeFigures] = {}
    for code, items in by_type.items():
        case_type = find_case_type(code)
        if case_type is None or not case_type.notice_figures:
            continue
        result.update(import_string(case_type.notice_figures)(items, on_date))
    return result
