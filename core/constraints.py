"""Which database constraint an IntegrityError is about, on PostgreSQL (production, tests) and SQLite (the
embedded default of `make run`) alike.

A service that catches the violation of one invariant (a second open to-do, a name already used) must not
swallow any other. PostgreSQL names the constraint (psycopg's `diag.constraint_name`); SQLite does not — for a
unique constraint on columns it lists them ("UNIQUE constraint failed: table.a, table.b"), for a unique
index on expressions it names the index. Matching the constraint name in the message text, as services did,
worked on PostgreSQL only: on SQLite the second submit of a form became a server error."""

from __future__ import annotations

from django.db import IntegrityError, models

_SQLITE_UNIQUE = "UNIQUE constraint failed: "


def violated(error: IntegrityError, model: type[models.Model], *names: str) -> bool:
    """Whether `error` is the violation of one of the constraints `names` of `model`."""
    diag = getattr(error.__cause__, "diag", None)
    constraint_name = getattr(diag, "constraint_name", None)
    if constraint_name:
        return constraint_name in names
    message = str(error)
    if any(name in message for name in names):
        return True
    if not message.startswith(_SQLITE_UNIQUE):
        return False
    columns = {part.strip() for part in message[len(_SQLITE_UNIQUE) :].split(",")}
    table = model._meta.db_table
    for constraint in model._meta.constraints:
        if constraint.name in names and getattr(constraint, "fields", None):
            expected = {f"{table}.{model._meta.get_field(name).column}" for name in constraint.fields}
            if columns == expected:
                return True
    return False
