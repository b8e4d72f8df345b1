"""Personal data is shown masked everywhere by default (220106********0016)."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    if len(value) <= 10:
        return value[:2] + "*" * max(len(value) - 4, 0) + value[-2:]
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_account(value: str | None) -> str:
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * (len(value) - 2) + value[-2:]
    return value[:4] + "*" * (len(value) - 8) + value[-4:]
