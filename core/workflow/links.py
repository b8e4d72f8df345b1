"""Links other apps put on the 公示名单 page (e.g. the PDF from `reports`) without the case engine importing
them: an app registers a link in its AppConfig.ready(); the page shows the ones the user may use, for the
whole scope and, with `?community=<12-digit code>`, for each community."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


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
