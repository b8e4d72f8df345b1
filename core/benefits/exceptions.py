"""Errors of the benefits engine. Messages are Chinese: views show them to the user as they are."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied


class BenefitsError(Exception):
    """Base class; `str(error)` is a message fit for the interface."""


class StandardNotFound(BenefitsError):
    pass


class ParameterNotFound(BenefitsError):
    pass


class CalculatorNotRegistered(BenefitsError):
    pass


class PaymentRunLocked(BenefitsError):
    pass


class CalculationError(BenefitsError):
    pass


class SectionRoleRequired(BenefitsError, PermissionDenied):
    """The user lacks the district role in the benefit type's section (业务科室). A BenefitsError, so the
    run pages show its message; a PermissionDenied, so anything else answers 403."""


class RunOutsideScope(BenefitsError, PermissionDenied):
    """The payment run holds lines outside the user's data scope (数据范围), so the user may not lock it.
    Like SectionRoleRequired: a BenefitsError for the run pages, a PermissionDenied (403) elsewhere."""
