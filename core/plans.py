"""Query plans of the web pages on PostgreSQL.

`without_jit`: a view's reads in one transaction with JIT compilation off. A page that lists a district
(~40,000 households, ~100,000 people) probes an index once per row — cheap work the planner costs high:
past `jit_above_cost` PostgreSQL compiles the plan first, 100–400 ms of server CPU before the first row,
for a query that runs in tens of milliseconds (issue 14, measured on the city; the payment roster turns it
off for the same reason, reports/payment_roster.py). Other databases: the transaction only."""

from __future__ import annotations

import functools

from django.db import connection, transaction


def without_jit(view):
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL jit = off")
            return view(request, *args, **kwargs)

    return wrapped
