"""Two transactions racing for one invariant (a database constraint behind a service check), for the tests
that prove the constraint holds under concurrency (PostgreSQL only: SQLite serialises writers)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection, transaction


def race_two(action: Callable[[], object], *, hold_seconds: float = 0.5) -> dict[str, object]:
    """Run `action` in two threads, each in its own transaction: the first does it and holds its
    transaction open for `hold_seconds`, the second starts once the first has done it — so the second's
    service check passes (the first's row is not committed yet) and its insert waits on the unique index
    until the first commits. Returns {"first": result or exception, "second": result or exception}."""
    first_done = threading.Event()
    outcomes: dict[str, object] = {}

    def first():
        try:
            with transaction.atomic():
                outcomes["first"] = action()
                first_done.set()
                threading.Event().wait(hold_seconds)  # the second checks and blocks on the index meanwhile
        except Exception as exc:  # noqa: BLE001 — reported to the test
            outcomes["first"] = exc
        finally:
            first_done.set()
            connection.close()

    def second():
        first_done.wait(5)
        try:
            with transaction.atomic():
                outcomes["second"] = action()
        except Exception as exc:  # noqa: BLE001 — reported to the test
            outcomes["second"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    return outcomes
