"""Loading a few large tables at once in one transaction (`generate_city`: a million people).

Three pieces, each answering one question:

- `SecondaryIndexes`: which indexes a bulk load may drop and build again afterwards — an index built
  once from sorted rows costs a fraction of the same index maintained row by row (and of its WAL).
- `Workers`: where the per-row work that needs no database goes — a pool of forked processes (the
  fields' encryption of ID numbers and bank accounts: ~14 µs a value, 1.4 million values a city), or
  this process for small loads and where fork is missing.
- `CopyWriter`: how the rows reach the database — COPY text (PostgreSQL) from a writer thread, while
  the caller generates the next chunk; `bulk_insert` for the other databases.

And for a load of model rows built in memory (the 户籍台账导入: 100,000 people with their history):
`reserve_ids` draws primary keys from a table's sequence, `copy_rows` writes rows given as field values
with COPY, psycopg adapting each value — neither Django's insert compiler (~20 µs a value's preparation
through fields and expressions) nor a model instance per row."""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from django.db import connection
from django.db.models import DateTimeField
from django.utils import timezone
from psycopg import sql


class SecondaryIndexes:
    """The non-unique indexes and the unique constraints of `tables` (PostgreSQL), as their definitions,
    read before they are dropped: `pg_get_indexdef` and `pg_get_constraintdef`, exactly what the
    migrations made. Drop and create run in the caller's transaction: should anything fail in between,
    the rollback restores them as they were; a unique constraint added again checks every row, as it
    would have row by row. Left in place: primary keys and any index a foreign key relies on; unique
    indexes without a constraint (Django's conditional UniqueConstraint: PostgreSQL deparses some of their
    conditions differently once they are created again from their definition — equivalent, but not the
    same text); exclusion constraints; indexes outside the default tablespace (their definitions do not
    name it). tests/test_generate_city_load.py checks every definition is the same after a load."""

    _QUERY = """
        SELECT c.relname, c.oid::regclass::text, x.indexrelid::regclass::text, pg_get_indexdef(x.indexrelid),
            k.conname, pg_get_constraintdef(k.oid)
        FROM pg_index x
        JOIN pg_class c ON c.oid = x.indrelid
        JOIN pg_class i ON i.oid = x.indexrelid
        LEFT JOIN pg_constraint k ON k.conindid = x.indexrelid AND k.conrelid = x.indrelid
        WHERE x.indrelid IN (SELECT to_regclass(quote_ident(t)) FROM unnest(%s::text[]) AS t)
            AND NOT x.indisprimary AND x.indisvalid AND x.indisready AND i.reltablespace = 0
            AND (k.oid IS NULL AND NOT x.indisunique OR k.contype = 'u')
            AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = x.indexrelid)
        ORDER BY c.relname, i.relname
    """

    def __init__(self, cursor, tables: list[str]):
        self.cursor = cursor
        cursor.execute(self._QUERY, [tables])
        self.dropped: dict[str, list[tuple[str, str]]] = {}
        self.found: dict[str, list[tuple[str, str]]] = {}
        for table, qualified, index, index_definition, constraint, constraint_definition in cursor.fetchall():
            if constraint:
                name = connection.ops.quote_name(constraint)
                drop = f"ALTER TABLE {qualified} DROP CONSTRAINT {name}"
                create = f"ALTER TABLE {qualified} ADD CONSTRAINT {name} {constraint_definition}"
            else:
                drop, create = f"DROP INDEX {index}", index_definition
            self.found.setdefault(table, []).append((drop, create))

    def drop(self, table: str, *, unless_rows: int) -> int:
        """Drop the table's indexes, unless it already holds `unless_rows` rows (as many as the load
        adds): building an index again costs with the whole table, maintaining it with the rows added."""
        self.cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT %s) AS t",  # noqa: S608
            [unless_rows],
        )
        if self.cursor.fetchone()[0] >= unless_rows:
            return 0
        indexes = self.found.get(table, [])
        for drop, _ in indexes:
            self.cursor.execute(drop)
        self.dropped[table] = indexes
        return len(indexes)

    def create(self, tables: list[str] | None = None) -> int:
        """Build the dropped indexes of `tables` (all by default) again."""
        made = 0
        for table in list(self.dropped) if tables is None else tables:
            for _, definition in self.dropped.pop(table, []):
                self.cursor.execute(definition)
                made += 1
        return made


def run_pending_checks(cursor) -> Callable[[], None]:
    """Run now the deferred constraint checks this transaction has pending (they would run at COMMIT;
    PostgreSQL alters no table that has some); return the call that defers the initially deferred
    constraints again (of the schemas in the search path: Django's foreign keys)."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    def defer_again() -> None:
        cursor.execute(
            "SELECT DISTINCT quote_ident(nspname) || '.' || quote_ident(conname) FROM pg_constraint"
            " JOIN pg_namespace ON pg_namespace.oid = connamespace"
            " WHERE condeferrable AND condeferred AND nspname = ANY(current_schemas(false))"
        )
        names = [name for (name,) in cursor.fetchall()]
        if names:
            cursor.execute(f"SET CONSTRAINTS {', '.join(names)} DEFERRED")

    return defer_again


class Workers:
    """Runs `function(rows)` for blocks of rows: in `processes` forked worker processes, or here when
    `processes` < 2 or the platform cannot fork. The workers inherit this process's state at the fork —
    Django set up, the fields' keys derived — and use no database connection: they exit with os._exit,
    so the connection they inherited is never closed by them. Create the pool before any other thread
    starts (fork copies only the calling thread)."""

    def __init__(self, processes: int):
        self.pool = None
        if processes >= 2 and "fork" in multiprocessing.get_all_start_methods():
            self.pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"))
            self.pool.submit(os.getpid).result()  # fork now, while this is the only thread

    def submit(self, function: Callable[[list], bytes], rows: list) -> Future | bytes:
        return self.pool.submit(function, rows) if self.pool else function(rows)

    def close(self, *, cancel: bool = False) -> None:
        if self.pool:
            self.pool.shutdown(wait=True, cancel_futures=cancel)


class CopyWriter:
    """Chunks of rows for several tables, written in order by one thread with COPY … FROM STDIN on
    this transaction's connection (PostgreSQL), while the caller prepares the next chunks. A chunk maps
    each table to its rows as COPY text (bytes), or to a Future of them from `Workers`. At most `depth`
    chunks wait. The database's error in a COPY is raised in the caller's thread, as Django's exception."""

    def __init__(self, statements: dict[str, object], depth: int = 3):
        self.statements = statements  # table -> its COPY statement (psycopg sql.Composed)
        self.chunks: queue.Queue[dict | None] = queue.Queue(maxsize=depth)
        self.failed: list[BaseException] = []
        self.raw = connection.connection
        self.thread = threading.Thread(target=self._write, name="generate-city-copy", daemon=True)
        self.thread.start()

    def _write(self) -> None:
        try:
            with self.raw.cursor() as cursor:
                while (chunk := self.chunks.get()) is not None:
                    for table, rows in chunk.items():
                        data = rows if isinstance(rows, bytes) else rows.result()
                        if data:
                            with cursor.copy(self.statements[table]) as copy:
                                copy.write(data)
        except BaseException as exc:  # raised by put()/close() in the caller's thread
            self.failed.append(exc)
            while self.chunks.get() is not None:
                pass

    def _raise(self) -> None:
        with connection.wrap_database_errors:
            raise self.failed[0]

    def put(self, chunk: dict) -> None:
        if self.failed:
            self._raise()
        self.chunks.put(chunk)

    def close(self, *, raising: bool = True) -> None:
        """Wait until every chunk is written; raise the writer's error, if any (`raising`: when the caller
        is not already raising its own)."""
        self.chunks.put(None)
        self.thread.join()
        if self.failed and raising:
            self._raise()


def parse_copy_text(data: bytes) -> list[list]:
    """COPY text rows back into values (for `bulk_insert`): \\N is None, t/f are booleans. The rows
    written here carry no tab, newline or backslash inside a value."""
    convert = {r"\N": None, "t": True, "f": False}
    return [[convert.get(v, v) for v in line.split("\t")] for line in data.decode().splitlines()]


def bulk_insert(table: str, columns: list[str], data: bytes) -> None:
    """The rows of a chunk through executemany (databases without COPY: SQLite, small cities)."""
    name = connection.ops.quote_name(table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {name} ({names}) VALUES ({marks})", parse_copy_text(data))  # noqa: S608


def reserve_ids(model, count: int) -> list[int]:
    """`count` primary keys drawn from `model`'s identity sequence (PostgreSQL), for rows that name
    their key (rows written with `copy_rows` that others refer to)."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def copy_rows(model, rows: list[dict[str, Any]]) -> int:
    """Write `rows` of `model` with COPY on this transaction's connection (PostgreSQL): each row a dict
    {attname: the value as stored} — an encrypted field's ciphertext, a keyed hash's digest, a foreign
    key's id. A concrete field the rows leave out takes its default (an auto_now/auto_now_add time: now; a
    primary key: the database's identity), so a field added later is written as a form would write it.
    The rows must all carry the same fields. Errors come as Django's (IntegrityError …)."""
    if not rows:
        return 0
    given = rows[0].keys()
    now = timezone.now()
    fields, defaults = [], {}
    for field in model._meta.concrete_fields:
        if field.attname in given:
            fields.append(field)
        elif not field.primary_key:
            fields.append(field)
            automatic = isinstance(field, DateTimeField) and (field.auto_now or field.auto_now_add)
            defaults[field.attname] = now if automatic else field.get_prep_value(field.get_default())
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(model._meta.db_table), sql.SQL(", ").join(sql.Identifier(f.column) for f in fields)
    )
    attnames = [f.attname for f in fields]
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(statement) as copy,
    ):
        for row in rows:
            copy.write_row([row[name] if name in row else defaults[name] for name in attnames])
    return len(rows)
