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


# The numbers an edit form shows masked to a user without registry.view_full_personal_data.
MASKS = {"id_number": mask_id_number, "phone": mask_phone, "bank_account": mask_account}
MASK_CHAR = "*"


def unmasked(submitted: str, stored: str | None, field: str) -> str:
    """The value to save for `field` of an edit form that showed it masked: the stored number when the masked
    text came back unchanged (the mask is never saved over the number), else what was typed."""
    stored = stored or ""
    if submitted and stored and submitted == MASKS[field](stored):
        return stored
    return submitted


def mask_name(value: str | None) -> str:
    """A name as posted on a community notice board (张榜公布): the surname kept, the given name masked —
    张* for two characters, 张*丰 for three, 欧**娜 for four; a full name never appears."""
    if not value:
        return ""
    value = value.strip()
    if len(value) <= 1:
        return MASK_CHAR
    if len(value) == 2:
        return value[0] + MASK_CHAR
    return value[0] + MASK_CHAR * (len(value) - 2) + value[-1]
