"""Errors of the benefits engine. Messages are Chinese: views show them to the user as they are."""

from __future__ import annotations


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
