"""Search by part of a name, served by an index on PostgreSQL.

A Chinese name is two to four characters and a caseworker types one or two of them (王, 伟, 王伟): a
B-tree cannot serve `LIKE '%王%'`, and trigrams (pg_trgm) cannot either — a pattern of one or two
characters has no trigram, so a trigram index degenerates to a scan of the whole index. What does serve it
is the set of a name's characters: a GIN index on `string_to_array(name, NULL)` (the name split into its
characters; migration registry 0101) answers "names holding 王 and 伟" from the index, and the LIKE that
follows keeps the meaning exactly what `name__contains` was (the characters adjacent, in that order).

At city scale (1,000,000 people) a one-character search of a district took ~650 ms scanning the name
index in order; with the character index it reads the few thousand names holding the character.
Other backends (SQLite, the embedded default) have no such index and get the plain `contains`."""

from __future__ import annotations

from django.db import connection
from django.db.models import BooleanField, F, Func, Q


class NameHasChars(Func):
    """`string_to_array(<name>, NULL) @> ARRAY[chars]`: the name holds every one of `chars` — the
    expression of the index `person_name_chars_idx`, written exactly as the index is, so the planner uses it."""

    output_field = BooleanField()

    def __init__(self, path: str, chars: list[str]):
        super().__init__(F(path))
        self.chars = chars

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"string_to_array({sql}, NULL) @> %s::text[]", [*params, self.chars]


def name_contains_q(query: str, path: str = "name") -> Q:
    """`<path>__contains=query`, with the character index's condition on PostgreSQL (`path` reaches a
    person's name: "name", "head__name", "person__name")."""
    contains = Q(**{f"{path}__contains": query})
    if connection.vendor != "postgresql" or not query:
        return contains
    return Q(NameHasChars(path, sorted(set(query)))) & contains
