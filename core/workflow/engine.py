"""Declarative case types: each bureau declares its statuses and the allowed moves between them once,
and registers the declaration in its AppConfig.ready(). The services in `services.py` are the only code
that changes a case's status; they read these declarations.

Example::

    register_case_type(CaseType(
        code="dibao", label="最低生活保障", number_prefix="DB",
        statuses={"draft": "录入中", "street_review": "街道审核", ...},
        initial_status="draft",
        transitions=(
            Transition("submit", "提交审核", source=("draft",), target="street_review",
                       permission="workflow.add_case", kind=KIND_ENTER,
                       assignee_role="街道审核员", due_working_days=15),
            ...
        ),
        closed_statuses=("approved", "rejected"),
    ))
"""

from __future__ import annotations

import datetime
import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from django.db.models import Q

KIND_ENTER = "enter"
KIND_REVIEW = "review"
KIND_APPROVE = "approve"
KIND_OTHER = "other"
# A case a district officer orders (a review after a 抽查 found a street's confirmation 不符合): opening it
# is no entering or investigating, so its opener may still take its approval.
KIND_ORDER = "order"
KINDS = {
    KIND_ENTER: "录入",
    KIND_REVIEW: "审核",
    KIND_APPROVE: "审批",
    KIND_OTHER: "其他",
    KIND_ORDER: "交办",
}
# Separation of duties (DESIGN.md): whoever entered, investigated or reviewed a case takes no later review
# or approval step of it. Entering and investigating are logged as KIND_ENTER, reviews as KIND_REVIEW.
MAKER_KINDS = (KIND_ENTER, KIND_REVIEW)
CHECK_KINDS = (KIND_REVIEW, KIND_APPROVE)

# A guard looks at the case (and who acts) and returns None when the move is allowed, or the reason
# in Chinese why not ("公示期未满", "缺少入户调查记录").
# Guard(case: models.Case, user) — the engine imports no model (guards that read models: guards.py).
Guard = Callable[[Any, Any], "str | None"]
# An effect runs inside the transition's transaction after the case is updated and logged — the place
# for a bureau's consequence of a move (e.g. approval creates the Entitlement). Signature:
# effect(case=..., transition=..., actor=..., data=...).
Effect = Callable[..., None]


def service_hooks(module: str) -> tuple[Callable[[str], Guard], Callable[[str], Effect]]:
    """Guard and effect factories for a case type whose guards and effects live in `module` (a bureau's
    services, which import models): `guard, effect = service_hooks("assistance.services")`, then
    `guard=guard("guard_accept")`. The function is looked up when the case engine calls it, so the case
    type can be declared from AppConfig.ready() before models load."""

    def guard(name: str) -> Guard:
        def call(case, user):
            return getattr(importlib.import_module(module), name)(case, user)

        call.__name__ = name
        return call

    def effect(name: str) -> Effect:
        def call(**kwargs):
            return getattr(importlib.import_module(module), name)(**kwargs)

        call.__name__ = name
        return call

    return guard, effect


WorkingDays = int | str | Callable[..., int | None] | None


def resolve_working_days(spec: WorkingDays, case, on_date: datetime.date) -> int | None:
    """The number of working days a step may take, on `on_date`. A string names a Parameter (the limits
    are (local) numbers with effective dates); a callable gets the case (None before it exists)."""
    if spec is None or isinstance(spec, int):
        return spec
    if isinstance(spec, str):
        from core.benefits.selectors import parameter_value

        return int(parameter_value(spec, on_date))
    return spec(case, on_date)


@dataclass(frozen=True)
class ByParameter:
    """Fields of a Transition that a dated Parameter decides on the day of the move (the district's own
    choice with an effective date, e.g. 委托乡镇/街道确认 低保: `delegation.dibao` = 1 gives the confirmation to
    the 街道审核员). `key` names the Parameter; `choices` maps its value to the fields that differ
    ({1: {"roles": ("街道审核员",), "permission": "workflow.review_case"}}). A value not listed, or no row
    in force, leaves the declaration as written. Only the fields in VARIABLE_FIELDS may vary: who takes the
    step and where it goes next, never its statuses, guard or effect."""

    key: str
    choices: Mapping[Any, Mapping[str, Any]]

    VARIABLE_FIELDS = frozenset({"roles", "permission", "assignee_role", "step"})

    def __post_init__(self) -> None:
        from decimal import Decimal

        normalised = {}
        for value, changes in self.choices.items():
            unknown = set(changes) - self.VARIABLE_FIELDS
            if unknown:
                raise ValueError(f"{self.key}: fields {sorted(unknown)} cannot depend on a parameter")
            if isinstance(changes.get("roles"), str):
                raise TypeError("roles must be a tuple of role names, not a string")
            normalised[Decimal(str(value))] = dict(changes)
        object.__setattr__(self, "choices", normalised)

    def value_on(self, on_date: datetime.date):
        """The parameter's value on `on_date` (a Decimal), or None when no row is in force."""
        from core.benefits.exceptions import ParameterNotFound
        from core.benefits.selectors import parameter_value

        try:
            return parameter_value(self.key, on_date)
        except ParameterNotFound:
            return None

    def changes_for(self, value) -> dict[str, Any]:
        return dict(self.choices.get(value, {})) if value is not None else {}


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    source: tuple[str, ...]
    target: str
    permission: str | None = None
    kind: str = KIND_OTHER
    guard: Guard | None = None
    # Who has the case on their to-do list once it reaches `target` ("" = nobody, e.g. closed).
    assignee_role: str = ""
    # Legal time limit of the target step in working days, counted from the day of the move: a number,
    # the key of a (local) Parameter with effective dates (e.g. "dibao.confirm_working_days"), or a
    # callable (case, on_date) -> int. See resolve_working_days().
    due_working_days: WorkingDays = None
    requires_comment: bool = False
    # Keys that must be present (and non-empty) in the `data` dict passed to the transition.
    required_data: tuple[str, ...] = ()
    # Name of the target step shown as 当前环节; defaults to the target status label.
    step: str = ""
    effect: Effect | None = None
    # Bootstrap button style on the case page ("primary", "success", "danger", "outline-secondary").
    style: str = "primary"
    # The roles whose holder takes this step ("街道审核员", "科长" …); empty = anyone with `permission`.
    # A district role (科室经办人, 科长) must be held in the case type's section (业务科室).
    roles: tuple[str, ...] = ()
    # Fields above that a dated Parameter decides on the day of the move (see ByParameter); the values
    # written above hold when the parameter says nothing. The engine always acts on `on(day)`.
    by_parameter: ByParameter | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown transition kind {self.kind!r}")
        if isinstance(self.source, str):
            raise TypeError("source must be a tuple of statuses, not a string")
        if isinstance(self.roles, str):
            raise TypeError("roles must be a tuple of role names, not a string")

    def on(self, on_date: datetime.date) -> Transition:
        """This step as it stands on `on_date`: the fields its `by_parameter` changes on that day applied
        (itself when it has none). `parameter_in_force` of the result tells which value decided."""
        if self.by_parameter is None:
            return self
        value = self.by_parameter.value_on(on_date)
        resolved = replace(self, by_parameter=None, **self.by_parameter.changes_for(value))
        object.__setattr__(resolved, "_parameter", (self.by_parameter.key, value))
        return resolved

    @property
    def parameter_in_force(self) -> tuple[str, Any] | None:
        """(key, value) of the Parameter that decided this step's fields (after `on`), or None."""
        return getattr(self, "_parameter", None)


@dataclass
class CaseType:
    code: str
    label: str
    number_prefix: str
    statuses: Mapping[str, str]
    initial_status: str
    transitions: tuple[Transition, ...]
    closed_statuses: tuple[str, ...] = ()
    # The to-do owner and time limit of the initial status (usually the caseworker finishing the entry).
    initial_assignee_role: str = ""
    initial_due_working_days: WorkingDays = None
    # Shortest 公示 this case type accepts, in calendar days; None = the system-wide minimum.
    notice_min_days: int | None = None
    # A template the generic case page includes under its header (bureau-specific details), rendered
    # with `case` in the context.
    detail_template: str | None = None
    # A URL name taking the case pk, for the bureau's own page of this case: the generic case page sends
    # the user there, and to-do lists link to it.
    detail_url_name: str | None = None
    # The section (业务科室, `accounts.Section.code`) whose district staff review and approve this type.
    section: str = ""
    # "app_label.Model" of the bureau's record on the case (a `workflow.models.CaseRecord`): the engine
    # keeps its `is_open` equal to the case's, for the record's "one open … per applicant" constraint.
    record_model: str = ""
    # "module.function" taking the case and returning the ids of users who took part in it without a log
    # row of their own (the home visit's visitors): separation of duties counts them as makers.
    participants: str = ""
    # "module.function" taking a list of this type's cases in 公示 and the day, returning {case id:
    # core.workflow.links.NoticeFigures} — what the printed 公示名单 says of each (家庭人口, 拟保障金额).
    # Set-based: one call for the whole list. Empty: the list shows "—".
    notice_figures: str = ""
    _by_name: dict[str, Transition] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        if hasattr(self.statuses, "choices"):  # a TextChoices class
            self.statuses = dict(self.statuses.choices)
        else:
            self.statuses = dict(self.statuses)
        self.transitions = tuple(self.transitions)
        self.closed_statuses = tuple(self.closed_statuses)
        known = set(self.statuses)
        if self.initial_status not in known:
            raise ValueError(f"{self.code}: initial status {self.initial_status!r} is not a status")
        for status in self.closed_statuses:
            if status not in known:
                raise ValueError(f"{self.code}: closed status {status!r} is not a status")
        for t in self.transitions:
            if t.name in self._by_name:
                raise ValueError(f"{self.code}: duplicate transition {t.name!r}")
            unknown = (set(t.source) | {t.target}) - known
            if unknown:
                raise ValueError(f"{self.code}.{t.name}: unknown statuses {sorted(unknown)}")
            self._by_name[t.name] = t

    def transition(self, name: str) -> Transition:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"case type {self.code!r} has no transition {name!r}") from None

    def transitions_from(self, status: str) -> list[Transition]:
        return [t for t in self.transitions if status in t.source]

    def status_label(self, status: str) -> str:
        return self.statuses.get(status, status)

    def step_label(self, status: str, transition: Transition | None = None) -> str:
        if transition is not None and transition.step:
            return transition.step
        return self.status_label(status)

    def is_closed(self, status: str) -> bool:
        return status in self.closed_statuses

    @property
    def status_choices(self) -> list[tuple[str, str]]:
        return list(self.statuses.items())


_REGISTRY: dict[str, CaseType] = {}


def register_case_type(case_type: CaseType) -> CaseType:
    """Register a case type (call from AppConfig.ready()). Re-registering the same code replaces it,
    so autoreload and tests that import twice do not fail."""
    _REGISTRY[case_type.code] = case_type
    return case_type


def get_case_type(code: str) -> CaseType:
    try:
        return _REGISTRY[code]
    except KeyError:
        raise LookupError(f"case type {code!r} is not registered") from None


def find_case_type(code: str) -> CaseType | None:
    return _REGISTRY.get(code)


def case_types() -> list[CaseType]:
    return sorted(_REGISTRY.values(), key=lambda ct: ct.code)


def case_type_choices() -> list[tuple[str, str]]:
    return [(ct.code, ct.label) for ct in case_types()]


def status_label_choices() -> list[tuple[str, str]]:
    """The status filter of the case list: each label once (科长确认 is a status of several case types,
    under different codes), its value the label itself; `status_q` turns it back into the statuses."""
    labels: dict[str, str] = {}
    for ct in case_types():
        for label in ct.statuses.values():
            labels.setdefault(label, label)
    return list(labels.items())


def status_q(value: str) -> Q:
    """Cases in the status `value` names: a label (every case type's status of that label) or a code."""
    q = Q()
    for ct in case_types():
        for status, label in ct.statuses.items():
            if label == value:
                q |= Q(case_type=ct.code, status=status)
    return q if q else Q(status=value)


def all_status_choices(codes: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """Distinct (status, label) pairs across case types, for the status filter of the case list."""
    seen: dict[str, str] = {}
    for ct in case_types():
        if codes is not None and ct.code not in codes:
            continue
        for status, label in ct.statuses.items():
            seen.setdefault(status, label)
    return list(seen.items())


# ---------------------------------------------------------------------------------------------------
# The moves every application flow shares
# ---------------------------------------------------------------------------------------------------
# An application (低保, 特困, 临时救助, 两项补贴 today; the five bureaus next) is registered by the community
# caseworker, accepted, posted for 公示 where the law asks for one, decided by the section chief, and may be
# sent back or withdrawn on the way. The factories below declare those moves once, with the permission,
# kind (which drives separation of duties), roles and button style they always have; a flow passes its
# statuses, the labels that differ, its time limits (their legal citation stays in the flow's file) and
# its guards and effects. Each returns ordinary Transitions, in the order the flow lists them.

# Names of core.accounts.models.Role (the engine imports no model): who registers and who decides.
_CASEWORKER = "社区经办人"
_CHIEF = "科长"
# The statuses an application flow opens and closes with (its TextChoices must have these values).
APPLICATION_INITIAL_STATUS = "registered"
APPLICATION_CLOSED_STATUSES = ("approved", "refused", "withdrawn")


def workflow_guard(name: str) -> Guard:
    """A ready-made guard of core/workflow/guards.py by name. Those guards read the workflow models, which
    the engine does not import, so (like a bureau's guards in service_hooks) it is looked up when called."""
    guard, _ = service_hooks(f"{__package__}.guards")
    return guard(name)


# The 公示 guards every flow with a 公示 starts from (the defaults of notice_outcomes).
NOTICE_PASSED = workflow_guard("require_notice_passed")
NOTICE_OBJECTED = workflow_guard("require_notice_objected")


def application_case_type(*, accept_working_days: WorkingDays, **declaration: Any) -> CaseType:
    """The CaseType of an application flow: it starts as 申请登记 on the community caseworker's to-do list,
    to be accepted within `accept_working_days`, and is closed once approved, refused or withdrawn. The rest
    of the declaration (code, label, statuses, transitions …) goes to CaseType as it is."""
    return CaseType(
        initial_status=APPLICATION_INITIAL_STATUS,
        initial_assignee_role=_CASEWORKER,
        initial_due_working_days=accept_working_days,
        closed_statuses=APPLICATION_CLOSED_STATUSES,
        **declaration,
    )


def submit_transition(
    name: str,
    label: str,
    *,
    source: str,
    target: str,
    assignee_role: str,
    due_working_days: WorkingDays,
    guard: Guard | None = None,
    effect: Effect | None = None,
    required_data: tuple[str, ...] = (),
    step: str = "",
) -> Transition:
    """The caseworker who entered or investigated the case passes it on to `target` (报请确认, 报乡镇审批,
    登记残联审核意见 …). It counts as entering the case (KIND_ENTER), so the one who submits it takes no later
    review or approval step of it."""
    return Transition(
        name,
        label,
        source=(source,),
        target=target,
        permission="workflow.add_case",
        kind=KIND_ENTER,
        guard=guard,
        effect=effect,
        required_data=required_data,
        assignee_role=assignee_role,
        due_working_days=due_working_days,
        step=step,
    )


def accept_transition(
    *,
    source: str,
    target: str,
    assignee_role: str,
    due_working_days: WorkingDays,
    guard: Guard | None = None,
    label: str = "受理",
    step: str = "",
) -> Transition:
    """受理: the caseworker takes the registered application in — the first submission of the case."""
    return submit_transition(
        "accept",
        label,
        source=source,
        target=target,
        guard=guard,
        assignee_role=assignee_role,
        due_working_days=due_working_days,
        step=step,
    )


def review_transition(
    name: str,
    label: str,
    *,
    source: str,
    target: str,
    role: str,
    assignee_role: str,
    due_working_days: WorkingDays,
    guard: Guard | None = None,
    effect: Effect | None = None,
) -> Transition:
    """A reviewer holding `role` (街道审核员 …) passes the case on after checking it (街道审核, 民政审核). It is a
    review (KIND_REVIEW): whoever entered the case may not take it, and the reviewer may not decide it."""
    return Transition(
        name,
        label,
        source=(source,),
        target=target,
        permission="workflow.review_case",
        roles=(role,),
        kind=KIND_REVIEW,
        guard=guard,
        effect=effect,
        assignee_role=assignee_role,
        due_working_days=due_working_days,
    )


def publicize_transition(
    *, source: str, target: str, guard: Guard, due_working_days: WorkingDays, assignee_role: str = _CASEWORKER
) -> Transition:
    """提交公示: the investigation's result is posted in the community; the caseworker who posts it closes
    the 公示 (see notice_outcomes)."""
    return Transition(
        "publicize",
        "提交公示",
        source=(source,),
        target=target,
        permission="workflow.add_publicnotice",
        kind=KIND_ENTER,
        guard=guard,
        assignee_role=assignee_role,
        due_working_days=due_working_days,
    )


def notice_outcomes(
    *,
    publicity: str,
    passed_to: str,
    passed_label: str,
    passed_role: str,
    passed_due_working_days: WorkingDays,
    objected_to: str,
    objected_role: str,
    objected_due_working_days: WorkingDays,
    objected_label: str = "公示有异议，重新调查",
    passed_guard: Guard = NOTICE_PASSED,
    objected_guard: Guard | None = NOTICE_OBJECTED,
    objected_requires_comment: bool = False,
) -> tuple[Transition, Transition]:
    """The two ways out of a 公示 (`publicity`): notice_passed — the period ended without objection, the
    case goes on to `passed_to` — and reinvestigate — an objection sends it back to `objected_to` for a
    new investigation and a new 公示. The guards default to core/workflow/guards.py's
    require_notice_passed and require_notice_objected; a flow that checks more passes its own, and one
    where the objection is only the caseworker's word (two-item subsidy) passes objected_guard=None with
    objected_requires_comment=True. Both are the 公示's own moves (closing it), not a review."""
    leave_notice = partial(
        Transition, source=(publicity,), permission="workflow.add_publicnotice", kind=KIND_OTHER
    )
    return (
        leave_notice(
            "notice_passed",
            passed_label,
            target=passed_to,
            guard=passed_guard,
            assignee_role=passed_role,
            due_working_days=passed_due_working_days,
            style="success",
        ),
        leave_notice(
            "reinvestigate",
            objected_label,
            target=objected_to,
            requires_comment=objected_requires_comment,
            guard=objected_guard,
            assignee_role=objected_role,
            due_working_days=objected_due_working_days,
            step="异议核查",
            style="warning",
        ),
    )


def decision_transitions(
    *,
    source: str,
    approved: str,
    refused: str,
    approve_guard: Guard | None,
    approve_effect: Effect,
    refuse_effect: Effect,
    approve_label: str = "确认批准",
    refuse_label: str = "不予批准",
    refusable_from: tuple[str, ...] = (),
    roles: tuple[str, ...] = (_CHIEF,),
    permission: str = "workflow.approve_case",
    name_prefix: str = "",
) -> tuple[Transition, Transition]:
    """The decision on an application waiting in `source`: approve and refuse (KIND_APPROVE, so nobody who
    entered, investigated or reviewed the case decides it). A refusal always states its reasons in writing
    (民发〔2021〕57号 第二十一条 and the like), hence the required comment. `refusable_from` adds the earlier
    statuses from which the case may already be refused; `name_prefix` names a second decision level
    (临时救助's township_approve / township_refuse)."""
    decide = partial(Transition, permission=permission, roles=roles, kind=KIND_APPROVE)
    return (
        decide(
            f"{name_prefix}approve",
            approve_label,
            source=(source,),
            target=approved,
            guard=approve_guard,
            effect=approve_effect,
            style="success",
        ),
        decide(
            f"{name_prefix}refuse",
            refuse_label,
            source=refusable_from or (source,),
            target=refused,
            requires_comment=True,
            effect=refuse_effect,
            style="danger",
        ),
    )


def send_back_transition(
    *,
    sources: tuple[str, ...],
    target: str,
    assignee_role: str,
    due_working_days: WorkingDays,
    roles: tuple[str, ...] = (),
    name: str = "send_back",
    label: str = "退回重新调查",
    step: str = "补充调查",
    permission: str = "workflow.review_case",
) -> Transition:
    """退回: a reviewer or the chief returns the case to an earlier step, always saying why. It is not a
    review (KIND_OTHER), so sending back does not bar the sender from the later decision."""
    return Transition(
        name,
        label,
        source=sources,
        target=target,
        permission=permission,
        roles=roles,
        kind=KIND_OTHER,
        requires_comment=True,
        assignee_role=assignee_role,
        due_working_days=due_working_days,
        step=step,
        style="outline-secondary",
    )


def withdraw_transition(*, sources: tuple[str, ...], target: str, effect: Effect | None = None) -> Transition:
    """撤回申请: the applicant withdraws before the case reaches the decision, recorded by the caseworker with
    the applicant's reason. Nothing is deleted: the case is closed as withdrawn."""
    return Transition(
        "withdraw",
        "撤回申请",
        source=sources,
        target=target,
        permission="workflow.add_case",
        kind=KIND_OTHER,
        requires_comment=True,
        effect=effect,
        style="outline-danger",
    )
