"""Record lists from a declaration (台账): filters, sortable columns, pagination and the Excel export of the
current filter, scoped by the user's region — written once for every list page of every bureau.

A list is a `RecordList` subclass; the case-flow kit's `CaseFlow` is one (its 台账 adds the case status
filter and the overdue badge). A page that is not a case flow declares one directly:

    class VisitList(RecordList):                     # core/visits/lists.py
        name = "visits"                              # URL name visits_list
        namespace = "visits"
        title = "探访记录"
        model = Visit
        permission = "visits.view_visit"
        columns = [Col("被探访人", "person.name", sort="person__name"), Col("日期", "visited_on", kind="date", sort="visited_on"), …]
        filterset = VisitFilterSet                   # a RegionFilterSet with the page's own filters
    urlpatterns = [VisitList.list_path("")]

The view checks the permission and the section (a district role of another section gets a 403 saying why),
then filters `queryset(user)` — `model.objects.visible_to(user)`, the one place scope is applied.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

import django_filters
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from core.accounts.sections import section_name, section_visible
from core.exports import xlsx_response
from core.registry.selectors import streets_and_communities
from core.validation import QueryField, refused_filter_message

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 20000


@dataclass(frozen=True)
class Col:
    """One column of a list and of its Excel export.

    `value` is a dotted path from the record ("person.name", "case.region.name") or a callable of the
    record. `kind` formats it: text, date, month, money, bool, status (the case's status badge), due
    (the step's time limit with an overdue badge), choice (a model field's display). `sort` is the
    order_by field when the column header sorts the list."""

    label: str
    value: str | Callable[[Any], Any]
    kind: str = "text"
    sort: str = ""
    link: bool = False
    in_list: bool = True
    in_export: bool = True

    def raw(self, obj) -> Any:
        if callable(self.value):
            return self.value(obj)
        current = obj
        for part in self.value.split("."):
            if current is None:
                return None
            current = getattr(current, part)
        if callable(current) and not isinstance(current, (str, Decimal, datetime.date)):
            current = current()
        return current

    @property
    def sort_key(self) -> str:
        return self.sort.replace("__", "_") if self.sort else ""

    def cell(self, obj) -> Any:
        """The value the list shows (the template formats dates, months, money and badges by `kind`)."""
        value = self.raw(obj)
        if isinstance(value, (list, tuple)):
            return "、".join(str(v) for v in value)
        return value

    def export_value(self, obj) -> Any:
        value = self.raw(obj)
        if self.kind == "status":
            return obj.case.status_label
        if self.kind == "due":
            return obj.case.due_date if obj.case.is_open else None
        if self.kind == "month":
            return f"{value.year}年{value.month}月" if value else ""
        if self.kind == "bool":
            return "是" if value else ""
        if self.kind == "money":
            return value
        if isinstance(value, (list, tuple)):
            return "、".join(str(v) for v in value)
        return "" if value is None else value


class QueryFilter(django_filters.CharFilter):
    """A search box: no control characters, a bounded length (core.validation.QueryField)."""

    field_class = QueryField


class RegionFilterSet(django_filters.FilterSet):
    """What every list filters by: `q` (the list's `search_fields`, each an ORM lookup; a lookup on a
    number field gets the query upper-cased) and street and community inside the user's scope (the
    records' `region_code`). A list subclasses it with its own filters; it needs no `Meta` (every filter
    is declared, and the form shows these first, then the subclass's, in the order they are declared)."""

    q = QueryFilter(label="查询", method="filter_q")
    street = django_filters.ChoiceFilter(label="街道/乡镇", method="filter_street", empty_label="全部街道")
    community = django_filters.ChoiceFilter(
        label="社区/村", method="filter_community", empty_label="全部社区"
    )

    search_fields: ClassVar[Sequence[str]] = ()

    def __init__(self, data=None, queryset=None, *, request=None, listing=None, **kw):
        super().__init__(data, queryset, request=request, **kw)
        streets, communities = streets_and_communities(request.user)
        self.filters["street"].extra["choices"] = [(r.code, r.name) for r in streets]
        self.filters["community"].extra["choices"] = [(r.code, r.name) for r in communities]

    def filter_q(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        query = Q()
        for lookup in self.search_fields:
            query |= Q(**{lookup: value.upper() if "number" in lookup and "case__" not in lookup else value})
        return queryset.filter(query)

    def filter_street(self, queryset, name, value):
        return queryset.filter(region_code__startswith=value[:9]) if value.isdigit() else queryset

    def filter_community(self, queryset, name, value):
        return queryset.filter(region_code=value) if value.isdigit() else queryset


class RecordList:
    """A list page's declaration; `list_path()` is its URL pattern (see the module docstring)."""

    name: ClassVar[str]
    namespace: ClassVar[str]
    title: ClassVar[str]
    model: ClassVar[type]
    # The permission to see the list, and the section whose district staff work on it ("" = every section).
    permission: ClassVar[str]
    section: ClassVar[str] = ""
    filterset: ClassVar[type[RegionFilterSet]] = RegionFilterSet
    columns: ClassVar[Sequence[Col]] = ()
    select_related: ClassVar[Sequence[str]] = ()
    default_sort: ClassVar[str] = "-pk"
    # The last ordering keys, so that pages never repeat or skip a row among equal sort values.
    tiebreak: ClassVar[Sequence[str]] = ("-pk",)
    search_placeholder: ClassVar[str] = ""
    # The page's heading (default: the title and 台账) and what its count counts (件, 户, 人 …).
    heading: ClassVar[str] = ""
    count_unit: ClassVar[str] = "件"
    # A sentence under the heading (how the records come to be, e.g. opened by a schedule).
    list_intro: ClassVar[str] = ""
    empty_text: ClassVar[str] = "没有符合条件的记录"
    export_title: ClassVar[str] = ""
    # A template included above the heading (tabs of the flow's pages), and the breadcrumbs before the page:
    # (label, URL name) pairs.
    tabs_template: ClassVar[str] = ""
    parents: ClassVar[Sequence[tuple[str, str]]] = ()
    # Each record's page: a URL name reversed with `detail_field` of the record ("" = no link).
    detail_url_name: ClassVar[str] = ""
    detail_field: ClassVar[str] = "pk"
    # The 新增 button: a URL name, its label and permission ("" = no button).
    create_url_name: ClassVar[str] = ""
    create_label: ClassVar[str] = "新增"
    create_permission: ClassVar[str] = ""

    @classmethod
    def queryset(cls, user) -> QuerySet:
        return cls.model.objects.visible_to(user).select_related(*cls.select_related)

    @classmethod
    def prepare(cls, rows: QuerySet) -> QuerySet:
        """The filtered, ordered rows before they are paginated or exported (annotations for the cells)."""
        return rows

    @classmethod
    def detail_url(cls, obj) -> str:
        key = getattr(obj, cls.detail_field) if cls.detail_url_name else None
        return reverse(cls.detail_url_name, args=[key]) if key is not None else ""

    @classmethod
    def create_url(cls, user) -> str:
        if not cls.create_url_name or not user.has_perm(cls.create_permission or cls.permission):
            return ""
        return reverse(cls.create_url_name)

    @classmethod
    def list_heading(cls) -> str:
        return cls.heading or f"{cls.title}台账"

    # -- names and URLs ---------------------------------------------------------------------------------
    @classmethod
    def url_name(cls, view: str) -> str:
        return f"{cls.name}_{view}"

    @classmethod
    def qualified_url_name(cls, view: str) -> str:
        return f"{cls.namespace}:{cls.url_name(view)}"

    @classmethod
    def reverse(cls, view: str, *args) -> str:
        return reverse(cls.qualified_url_name(view), args=args)

    @classmethod
    def sorts(cls) -> dict[str, str]:
        sorts = {}
        for col in cls.columns:
            if col.sort:
                sorts[col.sort_key] = col.sort
                sorts[f"-{col.sort_key}"] = f"-{col.sort}"
        return sorts

    @classmethod
    def list_path(cls, route: str = "", name: str = ""):
        return path(route, list_view(cls), name=name or cls.url_name("list"))


def guarded(permission: str, section: str = ""):
    """Login, the permission, and that the user works in `section` (a district role of another section
    sees none of its records; the 403 page says why)."""

    def decorator(view):
        @functools.wraps(view)
        def in_section(request: HttpRequest, *args, **kwargs):
            if not section_visible(request.user, section):
                raise PermissionDenied(f"您不在{section_name(section)}工作，不能查看该科室的业务")
            return view(request, *args, **kwargs)

        return login_required(permission_required(permission, raise_exception=True)(in_section))

    return decorator


def list_view(listing: type[RecordList]):
    @require_http_methods(["GET"])
    @guarded(listing.permission, listing.section)
    def view(request: HttpRequest) -> HttpResponse:
        visible = listing.queryset(request.user)
        filterset = listing.filterset(request.GET or None, queryset=visible, request=request, listing=listing)
        refused = filterset.is_bound and not filterset.is_valid()
        if refused:
            messages.error(request, refused_filter_message(filterset))
            rows = visible.none()
        else:
            rows = filterset.qs
        order = listing.sorts().get(request.GET.get("sort", "")) or listing.default_sort
        rows = listing.prepare(rows.order_by(order, *listing.tiebreak))
        if request.GET.get("export") == "xlsx" and not refused:  # no empty file for a refused filter
            return export_response(listing, rows)
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        columns = [c for c in listing.columns if c.in_list]
        for obj in page.object_list:
            obj.detail_url = listing.detail_url(obj)
        return render(
            request,
            "lists/list.html",
            {
                "listing": listing,
                "filter": filterset,
                "page": page,
                "columns": columns,
                "rows": [(obj, [(c, c.cell(obj)) for c in columns]) for obj in page.object_list],
                "today": timezone.localdate(),
                "create_url": listing.create_url(request.user),
                "crumbs": [(label, reverse(name)) for label, name in listing.parents],
            },
        )

    return view


def export_response(listing: type[RecordList], rows) -> HttpResponse:
    """The current filter of the list as .xlsx (scope already applied, formulas written as text)."""
    columns = [c for c in listing.columns if c.in_export]
    title = listing.export_title or listing.list_heading()
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    return xlsx_response(
        sheet_title=title,
        header=[c.label for c in columns],
        rows=(
            [c.export_value(obj) for c in columns] for obj in rows[:EXPORT_MAX_ROWS].iterator(chunk_size=2000)
        ),
        filename=f"{title}-{stamp}.xlsx",
        ascii_name=f"{listing.name}-{stamp}.xlsx",
    )
