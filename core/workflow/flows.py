"""The case-flow kit: a bureau flow is a declaration on these pieces, never a copy of another flow's views.

A flow declares its application model (a subclass of `workflow.models.Application`), its `CaseType`, a
FilterSet, the columns of its 台账 (list and Excel export), its create form and the service that saves
it, the steps with their own forms (入户调查, 调查核实 …), its 公示 services, and the template blocks of its
detail page. The kit supplies the list with filters, sorting, pagination and export of the current
filter, the household picker, the create page (one record per rendered form), the detail frame (summary,
assessment, proposed amount, action panel built from the Transition declarations with the reason for every
disabled action, 公示, attachments, timeline) and the POST endpoints — all scoped by `visible_to(user)`.

    class TekunFlow(CaseFlow):                       # assistance/tekun/flow.py
        name = "tekun"                               # URL names tekun_list, tekun_detail …
        namespace = "assistance"
        title = "特困人员"
        model = TekunApplication
        case_type = TEKUN
        filterset = TekunFilterSet
        columns = [CASE_NUMBER, Col("申请人", "person.name"), …, STATUS, DUE]
        create_form = TekunApplicationForm
        …
    urlpatterns = TekunFlow.urls()

See README.md "How to add a flow".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

import django_filters
from django import forms
from django.db.models import QuerySet
from django.urls import path
from django.utils import timezone

from core.accounts.navigation import NavGroup, NavItem
from core.lists import Col, RecordList, RegionFilterSet
from core.registry.actions import RecordAction, register_action

from .engine import CaseType
from .selectors import records_with_overdue

CASE_NUMBER = Col("案件编号", "case.number", sort="case__number", link=True)
APPLICANT = Col("申请人", "case.applicant_name")
HOUSEHOLD_NUMBER = Col("户编号", "household.number")
COMMUNITY = Col("所属社区", "case.region.name")
APPLIED_ON = Col("申请日期", "applied_on", kind="date", sort="applied_on")
ACCEPTED_ON = Col("受理日期", "case.accepted_on", kind="date", in_list=False)
STATUS = Col("状态", "case.status", kind="status")
DUE = Col("本环节时限", "case.due_date", kind="due", sort="case__due_date")
# A personal benefit's (PersonApplication) applicant is the person, shown under the flow's own word for them.
PERSON_APPLICANT = Col("申请人", "person.name")
# Column runs every 台账 shares, in the order the lists show them: when the case was made, and where it is.
CASE_DATES = (APPLIED_ON, ACCEPTED_ON)
PROGRESS = (STATUS, DUE)


def case_columns(applicant: Col = APPLICANT, household: Col = HOUSEHOLD_NUMBER) -> tuple[Col, ...]:
    """The first columns of every 台账: 案件编号, who applied, 户编号 and 所属社区. A flow passes its own
    applicant column (the person of a personal benefit, 户主 on a review) or a 户编号 kept to the export."""
    return (CASE_NUMBER, applicant, household, COMMUNITY)


class FlowFilterSet(RegionFilterSet):
    """What every case 台账 filters by: the list kit's `q`, street and community, and the case's status
    ("open" or one of the case type's). `q` searches the case number, applicant and 户编号 by default."""

    status = django_filters.ChoiceFilter(label="状态", method="filter_status", empty_label="全部状态")

    # What `q` searches, matching the default placeholder 案件编号 / 申请人 / 户编号.
    search_fields: ClassVar[Sequence[str]] = (
        "case__number__istartswith",
        "case__applicant_name__contains",
        "household__number__istartswith",
    )

    def __init__(self, data=None, queryset=None, *, request=None, listing=None, **kw):
        super().__init__(data, queryset, request=request, listing=listing, **kw)
        case_type = getattr(listing, "case_type", None)
        statuses = case_type.status_choices if case_type is not None else []
        self.filters["status"].extra["choices"] = [("open", "办理中"), *statuses]

    def filter_status(self, queryset, name, value):
        if value == "open":
            return queryset.filter(is_open=True)
        return queryset.filter(case__status=value)


# A personal benefit searches the person's current name rather than the name the case was opened under.
PERSON_SEARCH_FIELDS = (
    "case__number__istartswith",
    "person__name__contains",
    "household__number__istartswith",
)


@dataclass(frozen=True)
class Step:
    """A form of the flow's own on the detail page: 入户调查, 调查核实, 拟救助方案 …

    `save(application=, actor=, form=)` calls the flow's service with the form's data and returns the
    success message (or a (message, warnings) pair); a ValidationError or TransitionError shows on the form.
    The step is offered while the case is in one of `statuses` and the user has `permission`."""

    name: str
    label: str
    form: type[forms.Form]
    save: Callable[..., Any]
    statuses: tuple[str, ...]
    permission: str = "workflow.add_case"
    initial: Callable[[Any], dict] | None = None
    form_kwargs: Callable[[Any], dict] | None = None
    template: str = "workflow/flow/step_form.html"
    # Where on the detail page the step's result shows (and the user lands after saving).
    anchor: str = ""
    # Whether the step is offered for this application besides its statuses (e.g. 先行救助 only once).
    applies: Callable[[Any], bool] | None = None


def save_form(
    service: Callable[..., Any], message: str | Callable[[Any], Any], *, record: str = "application"
):
    """A `Step.save` for a step whose form's fields are its service's keyword arguments (most are): calls
    `service(<record>=application, actor=actor, **form.cleaned_data)` — `record` is the name the service
    gives the application ("temp", "review") — and returns `message`, or `message(result)` when the
    message tells what the service found."""

    def save(*, application, actor, form):
        result = service(**{record: application}, actor=actor, **form.cleaned_data)
        return message(result) if callable(message) else message

    return save


@dataclass(frozen=True)
class NoticeHooks:
    """The flow's 公示 services, each taking `application=` and `actor=`: `start` opens the notice (and
    moves the case to 公示), `object_` records an objection (back to investigation), `finish` ends it
    after its last day (on to the next step)."""

    start: Callable[..., Any]
    object_: Callable[..., Any]
    finish: Callable[..., Any]
    object_message: str
    finish_message: str
    finish_label: str = "公示期满无异议"
    # Where an objection sends the case, shown in the objection field's placeholder.
    objection_hint: str = "登记后退回调查核实"
    # Statuses in which the notice may be started; None = the status the `publicize` transition leaves.
    start_statuses: tuple[str, ...] | None = None
    # Whether this application has a 公示 at all (a minor's 特困 case has none).
    applies: Callable[[Any], bool] = field(default=lambda application: True)
    # The transitions the notice card performs: no buttons of their own in the action panel.
    transitions: tuple[str, ...] = ("publicize", "reinvestigate", "notice_passed")
    # Why the notice cannot start yet (e.g. the investigation is missing), or None.
    problem: Callable[[Any], str | None] = field(default=lambda application: None)
    # A warning that lets the notice start only once the user ticks 已知悉 (e.g. the investigation found the
    # household 不符合): shown in the start form; `start` then receives it as `acknowledged_warning=`.
    start_warning: Callable[[Any], str | None] = field(default=lambda application: None)


@dataclass(frozen=True)
class Proposal:
    """The amount the flow proposes (shown at investigation, review and approval) and how it was found."""

    label: str
    amount: Decimal | None
    lines: Sequence[tuple[str, Any]] = ()
    note: str = ""
    error: str = ""


class CaseFlow(RecordList):
    """A flow's declaration. Subclass it, set the attributes, and include `Flow.urls()` in the app's
    URLconf; the views live in `core.workflow.flow_views`, the 台账 is the list kit's (core.lists)."""

    case_type: ClassVar[CaseType]
    permission: ClassVar[str] = "workflow.view_case"
    filterset: ClassVar[type[FlowFilterSet]] = FlowFilterSet
    select_related: ClassVar[Sequence[str]] = ("case", "case__region", "household")
    default_sort: ClassVar[str] = "-applied_on"
    tiebreak: ClassVar[Sequence[str]] = ("-case_id",)
    search_placeholder: ClassVar[str] = "案件编号 / 申请人 / 户编号"
    create_label: ClassVar[str] = "新增申请"
    # What the detail page calls `case.applicant_name` (a review's is the household's 户主).
    applicant_label: ClassVar[str] = "申请人"
    # 新增申请: the form (taking `household=` and, for personal benefits, `person=`) and who applies.
    create_form: ClassVar[type[forms.Form] | None] = None
    create_for: ClassVar[str] = "household"  # or "person"
    create_intro: ClassVar[str] = ""
    create_permission: ClassVar[str] = "workflow.add_case"
    # The service that saves a new application; the default `create` calls it with the form's fields.
    create_service: ClassVar[Callable[..., Any] | None] = None
    steps: ClassVar[Sequence[Step]] = ()
    notice: ClassVar[NoticeHooks | None] = None
    # Flow-specific blocks of the detail page, included with the context of `detail_context`: badges,
    # documents, summary (more rows of the summary), dates (replaces the 申请日期/受理日期 rows, for a
    # record that is no application), decision (once closed), assessment, side; create, detail, tabs.
    blocks: ClassVar[Mapping[str, str]] = {}
    # Where the user lands on the detail page after an action, by the status the case is now in: the card
    # with the next step's form ("next") unless a status is listed here with another anchor ("" = the top).
    status_anchors: ClassVar[Mapping[str, str]] = {}
    # The selector (user, pk) of the assessment the flow's blocks and `proposed_amount` read as `d`, for
    # the default `detail_context`.
    detail_selector: ClassVar[Callable[[Any, int], Any] | None] = None
    # Extra URL patterns of the flow (PDFs, special pages), appended to the kit's.
    extra_urls: ClassVar[Sequence[Any]] = ()
    # Transitions the action panel never offers: a service takes them (e.g. 临时救助's automatic refusal of
    # a same-cause application in the same year).
    hidden_transitions: ClassVar[Sequence[str]] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "case_type" in cls.__dict__:
            cls.section = cls.case_type.section  # the list and every page check the section of the case type
        cls.tabs_template = cls.blocks.get("tabs", "")

    # -- the 台账 (core.lists) ---------------------------------------------------------------------------
    @classmethod
    def prepare(cls, rows: QuerySet) -> QuerySet:
        return records_with_overdue(rows, timezone.localdate())

    @classmethod
    def detail_url(cls, obj) -> str:
        return cls.reverse("detail", obj.pk)

    @classmethod
    def create_url(cls, user) -> str:
        if cls.create_form is None or not user.has_perm(cls.create_permission):
            return ""
        return cls.reverse("create")

    # -- hooks a flow overrides -------------------------------------------------------------------------
    @classmethod
    def create(cls, *, data: dict, household, person, actor):
        """Save a new application from the create form's cleaned data. By default the form's fields are the
        keyword arguments of `create_service` (every flow's form is built so), with `actor` and — where the
        form has no field for them and the service takes them — the page's `household` and `person`. A flow
        whose form does not match its service overrides this."""
        if cls.create_service is None:
            raise NotImplementedError(f"{cls.__name__} declares neither create_service nor create()")
        accepted = inspect.signature(cls.create_service).parameters
        page = {"household": household, "person": person}
        page = {name: value for name, value in page.items() if name in accepted and name not in data}
        return cls.create_service(**page, **data, actor=actor)

    @classmethod
    def create_initial(cls, request) -> dict:
        """Initial values of the create form taken from the query string (e.g. the subsidy a line of a
        comparison page lacks); the form receives them as `initial=`."""
        return {}

    @classmethod
    def created_message(cls, application) -> tuple[str, str]:
        """The message after 新增申请: a `django.contrib.messages` level name ("success", "warning") and text
        (a flow whose create may refuse the application at once says so with a warning)."""
        return "success", f"已登记{cls.case_type.label}申请 {application.case.number}，请办理受理"

    @classmethod
    def create_problem(cls, *, household, person) -> str | None:
        """Why no application can be entered for this household (or person) at all — already in hand,
        already covered — said when the applicant is chosen, before the form is filled in. The create
        service refuses the same; None = go ahead."""
        return None

    @classmethod
    def create_warning(cls, *, household, person) -> str | None:
        """A warning on the create page that does not stop the application (e.g. an overlap with another
        benefit the applicant holds); None = nothing to say."""
        return None

    @classmethod
    def warnings(cls, application, context: dict) -> list[str]:
        """Warnings shown at the top of the detail page while the case is open (after detail_context)."""
        return []

    @classmethod
    def transition(cls, *, application, name: str, actor, comment: str):
        """Take a declared transition (the flow's service, which may check more than the engine)."""
        from .services import case_transition

        return case_transition(case=application.case, name=name, actor=actor, comment=comment)

    @classmethod
    def detail_context(cls, application, user) -> dict:
        """Extra context of the detail page: the assessment the flow's blocks show (`detail_selector`)."""
        if cls.detail_selector is None:
            return {}
        return {"d": cls.detail_selector(user, application.pk)}

    @classmethod
    def proposed_amount(cls, application, context: dict) -> Proposal | None:
        """The amount the flow proposes for this application, or None when it has none."""
        return None

    # -- menu and record buttons ------------------------------------------------------------------------
    @classmethod
    def register_nav(
        cls,
        menu: NavGroup,
        *,
        icon: str,
        label: str = "",
        pages: Sequence[NavItem] = (),
        create_in_menu: bool = False,
        action_label: str = "",
        action_icon: str = "",
        action_order: int = 100,
    ) -> None:
        """Put the flow in its bureau's menu group (called from the app's navigation.py in ready()), so
        that every flow's entries are made one way: the 台账 under `label` (default the flow's title), then
        the flow's other `pages` (保障对象, 月度比对 …), 新增申请 too when `create_in_menu`, and — for a flow
        with a create form — the `action_label` button ("申请特困") on the household page, and on the person
        page as well for a personal benefit, each opening the create page for that household or person."""
        menu.register(NavItem(label or cls.title, cls.qualified_url_name("list"), icon, "workflow.view_case"))
        menu.register(*pages)
        if cls.create_form is None:
            return
        if not action_label:
            raise ValueError(f"{cls.__name__}.register_nav needs the action_label of its household button")
        create = cls.qualified_url_name("create")
        if create_in_menu:
            menu.register(NavItem("新增申请", create, "plus-circle", cls.create_permission))
        action = RecordAction(
            action_label, create, cls.create_permission, action_icon or icon, order=action_order
        )
        register_action("household", action)
        if cls.create_for == "person":
            register_action("person", action)

    @classmethod
    def urls(cls) -> list:
        from . import flow_views as v

        patterns = [
            cls.list_path(""),
            path("<int:pk>/", v.detail_view(cls), name=cls.url_name("detail")),
            path("<int:pk>/transition/", v.transition_view(cls), name=cls.url_name("transition")),
            path(
                "<int:pk>/attachments/upload/", v.attachment_view(cls), name=cls.url_name("attachment_upload")
            ),
        ]
        if cls.create_form is not None:
            patterns.append(path("new/", v.create_view(cls), name=cls.url_name("create")))
        if cls.notice is not None:
            patterns.append(path("<int:pk>/notice/", v.notice_view(cls), name=cls.url_name("notice")))
        for step in cls.steps:
            patterns.append(
                path(f"<int:pk>/{step.name}/", v.step_view(cls, step), name=cls.url_name(step.name))
            )
        return [*patterns, *cls.extra_urls]
