"""Pieces every flow of the bureau shares (低保, 特困, 临时救助, 两项补贴): finding the household an
application is for, and the 公示 actions of an application page. One place, so the flows cannot drift."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest

from core.registry.models import Household
from core.workflow.models import PublicNotice
from core.workflow.services import TransitionError

PICK_LIMIT = 20


def household_search(user, q: str, limit: int = PICK_LIMIT) -> list[Household]:
    """新增申请 without a household: active households in the user's scope by 户编号 prefix, else by the
    head's name (partial)."""
    q = (q or "").strip()
    if not q:
        return []
    base = Household.objects.visible_to(user).filter(is_active=True).select_related("head", "region")
    by_number = list(base.filter(number__istartswith=q.upper()).order_by("number")[:limit])
    return by_number or list(base.filter(head__name__contains=q).order_by("number")[:limit])


def parse_notice_start(post) -> tuple[datetime.date, int]:
    """The start date and length of a 公示 from the application page's form (Chinese error if missing)."""
    try:
        start_date = datetime.date.fromisoformat((post.get("start_date") or "").strip())
    except ValueError:
        start_date = None
    days = (post.get("days") or "7").strip()
    if start_date is None or not days.isdigit():
        raise TransitionError("请填写公示开始日期和天数")
    return start_date, int(days)


def notice_action(
    request: HttpRequest,
    *,
    application,
    start: Callable[..., PublicNotice],
    object_: Callable,
    finish: Callable,
    object_message: str,
    finish_message: str,
) -> None:
    """公示 actions posted from an application page — start (提交公示并发布), object (登记异议) and finish
    (公示期满) — each through the flow's own service; the outcome is told with a message."""
    action = request.POST.get("action", "")
    try:
        if action == "start":
            start_date, days = parse_notice_start(request.POST)
            notice = start(
                application=application,
                actor=request.user,
                start_date=start_date,
                days=days,
                place=request.POST.get("place", ""),
            )
            end = notice.end_date
            messages.success(request, f"已发布公示，公示期至{end.year}年{end.month}月{end.day}日")
        elif action == "object":
            object_(application=application, actor=request.user, objection=request.POST.get("objection", ""))
            messages.success(request, object_message)
        elif action == "finish":
            finish(application=application, actor=request.user, comment=request.POST.get("comment", ""))
            messages.success(request, finish_message)
        else:
            messages.error(request, "请求无效，请重试")
    except TransitionError as exc:
        messages.error(request, exc.message)
