"""Two columns of each household kept by the database: `living_members` (its members without a death date)
and `head_name` (its head's name) — what the 家庭档案 list shows and sorts by, read from the covering index
instead of counting or joining a district's ~100,000 people on every request (issue 14: 532 ms sorted by 人数,
299 ms by 户主).

Every write of a person or a household — a service, an import, a bulk load, a data fix in SQL — keeps them,
because triggers do it, not the code that wrote the row:

- PostgreSQL: one statement-level trigger per event on registry_person, with its transition tables, adds
  the statement's changes grouped by household and carries a head's new name (a COPY of 25,000 people is
  one UPDATE, not 25,000). A BEFORE trigger on registry_household keeps both as they were unless the write
  comes from those triggers (`pg_trigger_depth() >= 2`) — a household saved from a form loaded before a
  member was added cannot put back its stale count — and takes the head's name when the head changes.
  (`session_replication_role = replica` — generate_city's load — skips them all: the load writes both
  columns itself.)
- SQLite (make run, the demo): row triggers take both again after each change of a person, and after any
  write of the household that could have carried stale values. A migration that remakes one of the two
  tables on SQLite drops its triggers; `ensure_sqlite_triggers` (after every migrate) puts them back and
  fills the columns again.

`mismatches()` lists the households whose kept columns differ from their people: the tests' check, and an
operator's after a restore (`manage.py household_kept`, `--fix` puts them right with `refill()`). Read the
columns; never write them.
"""

from django.db import connection as default_connection
from django.db import transaction

_HEAD = "(SELECT p.name FROM registry_person p WHERE p.id = {id})"
_LIVING = "(SELECT COUNT(*) FROM registry_person p WHERE p.household_id = {id} AND p.death_date IS NULL)"

FILL = """
UPDATE registry_household SET
    living_members = (SELECT COUNT(*) FROM registry_person p
                      WHERE p.household_id = registry_household.id AND p.death_date IS NULL),
    head_name = COALESCE((SELECT p.name FROM registry_person p WHERE p.id = registry_household.head_id), '')
"""

PG_CREATE = """
CREATE OR REPLACE FUNCTION registry_household_kept() RETURNS trigger AS $$
BEGIN
    -- Only the person triggers (one level down) move the count and carry a head's new name, and `refill()`
    -- (its flag set for its transaction); any other write of a household keeps the count, and takes the
    -- name of the head it names.
    IF pg_trigger_depth() < 2
       AND current_setting('registry.household_kept_refill', true) IS DISTINCT FROM 'on' THEN
        IF TG_OP = 'INSERT' THEN
            NEW.living_members := 0;
        ELSE
            NEW.living_members := OLD.living_members;
        END IF;
        IF TG_OP = 'INSERT' OR NEW.head_id IS DISTINCT FROM OLD.head_id THEN
            NEW.head_name := COALESCE((SELECT p.name FROM registry_person p WHERE p.id = NEW.head_id), '');
        ELSE
            NEW.head_name := OLD.head_name;
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER registry_household_kept
    BEFORE INSERT OR UPDATE ON registry_household
    FOR EACH ROW EXECUTE FUNCTION registry_household_kept();

CREATE OR REPLACE FUNCTION registry_person_household_kept() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE registry_household h SET living_members = h.living_members + d.n
        FROM (SELECT household_id, COUNT(*) AS n FROM new_rows
              WHERE household_id IS NOT NULL AND death_date IS NULL GROUP BY household_id) d
        WHERE h.id = d.household_id;
        -- a household loaded before its head (a bulk load with its checks deferred)
        UPDATE registry_household h SET head_name = n.name
        FROM new_rows n WHERE h.head_id = n.id AND h.head_name IS DISTINCT FROM n.name;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE registry_household h SET living_members = h.living_members - d.n
        FROM (SELECT household_id, COUNT(*) AS n FROM old_rows
              WHERE household_id IS NOT NULL AND death_date IS NULL GROUP BY household_id) d
        WHERE h.id = d.household_id;
    ELSE
        UPDATE registry_household h SET living_members = h.living_members + d.n
        FROM (SELECT household_id, SUM(n) AS n FROM (
                  SELECT household_id, 1 AS n FROM new_rows
                  WHERE household_id IS NOT NULL AND death_date IS NULL
                  UNION ALL
                  SELECT household_id, -1 FROM old_rows
                  WHERE household_id IS NOT NULL AND death_date IS NULL
              ) c GROUP BY household_id HAVING SUM(n) <> 0) d
        WHERE h.id = d.household_id;
        UPDATE registry_household h SET head_name = n.name
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.name IS DISTINCT FROM o.name AND h.head_id = n.id;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER registry_person_household_kept_insert
    AFTER INSERT ON registry_person REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_person_household_kept();
CREATE TRIGGER registry_person_household_kept_update
    AFTER UPDATE ON registry_person REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_person_household_kept();
CREATE TRIGGER registry_person_household_kept_delete
    AFTER DELETE ON registry_person REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_person_household_kept();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS registry_person_household_kept_insert ON registry_person;
DROP TRIGGER IF EXISTS registry_person_household_kept_update ON registry_person;
DROP TRIGGER IF EXISTS registry_person_household_kept_delete ON registry_person;
DROP FUNCTION IF EXISTS registry_person_household_kept();
DROP TRIGGER IF EXISTS registry_household_kept ON registry_household;
DROP FUNCTION IF EXISTS registry_household_kept();
"""

_REFILL = """
    UPDATE registry_household SET living_members = {living}, head_name = COALESCE({head}, '')
    WHERE id = {id};"""


def _refill(household_id: str) -> str:
    return _REFILL.format(
        id=household_id,
        living=_LIVING.format(id=household_id),
        head=_HEAD.format(id="registry_household.head_id"),
    )


# Any column of the household but the kept two: a save from Django sets them all (and stale values with
# them); the person triggers set only the kept two, so they do not fire this one.
_HOUSEHOLD_COLUMNS = (
    "number, region_id, region_code, address, area_type, head_id, phone, bank_name, bank_account, "
    "account_holder, is_active, created_by_id, created_at, updated_at"
)
SQLITE_CREATE = [
    "CREATE TRIGGER registry_person_household_kept_insert AFTER INSERT ON registry_person BEGIN"  # noqa: S608
    + _refill("NEW.household_id")
    + " UPDATE registry_household SET head_name = NEW.name WHERE head_id = NEW.id; END",
    "CREATE TRIGGER registry_person_household_kept_delete AFTER DELETE ON registry_person "
    "WHEN OLD.household_id IS NOT NULL BEGIN" + _refill("OLD.household_id") + " END",
    "CREATE TRIGGER registry_person_household_kept_update AFTER UPDATE OF household_id, death_date, name "  # noqa: S608
    "ON registry_person BEGIN"
    + _refill("OLD.household_id")
    + _refill("NEW.household_id")
    + " UPDATE registry_household SET head_name = NEW.name WHERE head_id = NEW.id; END",
    "CREATE TRIGGER registry_household_kept_insert AFTER INSERT ON registry_household BEGIN"
    + _refill("NEW.id")
    + " END",
    f"CREATE TRIGGER registry_household_kept AFTER UPDATE OF {_HOUSEHOLD_COLUMNS} "
    "ON registry_household BEGIN" + _refill("NEW.id") + " END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS registry_person_household_kept_insert",
    "DROP TRIGGER IF EXISTS registry_person_household_kept_delete",
    "DROP TRIGGER IF EXISTS registry_person_household_kept_update",
    "DROP TRIGGER IF EXISTS registry_household_kept_insert",
    "DROP TRIGGER IF EXISTS registry_household_kept",
]


def create(schema_editor) -> None:
    """Fill the counts in, then create the triggers (migration registry 0107)."""
    vendor = schema_editor.connection.vendor
    schema_editor.execute(FILL)
    if vendor == "postgresql":
        schema_editor.execute(PG_CREATE)
    elif vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)


def drop(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP)
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


def ensure_sqlite_triggers(using: str = "default", **kwargs) -> None:
    """post_migrate: on SQLite, the triggers a table remake dropped are created again and the kept columns
    filled in again (nothing to do on PostgreSQL, whose ALTER TABLE keeps triggers)."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    applied = MigrationRecorder(connection).applied_migrations()
    if ("registry", "0107_household_kept_columns") not in applied:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
            ["registry_%household_kept%"],
        )
        if cursor.fetchone()[0] == len(SQLITE_CREATE):
            return
        for statement in SQLITE_DROP:
            cursor.execute(statement)
        cursor.execute(FILL)
        for statement in SQLITE_CREATE:
            cursor.execute(statement)


_TRUE = """
    SELECT h.id, COALESCE(c.n, 0) AS n, COALESCE(head.name, '') AS head
    FROM registry_household h
    LEFT JOIN (SELECT household_id, COUNT(*) AS n FROM registry_person
               WHERE death_date IS NULL AND household_id IS NOT NULL GROUP BY household_id) c
           ON c.household_id = h.id
    LEFT JOIN registry_person head ON head.id = h.head_id
"""


def mismatches(connection=default_connection, limit: int = 100) -> list[tuple]:
    """(household id, kept count, living members counted, kept head's name, the head's name) of the
    households whose kept columns differ from their people."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT h.id, h.living_members, t.n, h.head_name, t.head FROM registry_household h"  # noqa: S608
            f" JOIN ({_TRUE}) t ON t.id = h.id"
            " WHERE h.living_members <> t.n OR h.head_name <> t.head ORDER BY h.id LIMIT %s",
            [limit],
        )
        return [tuple(row) for row in cursor.fetchall()]


def refill(connection=default_connection) -> int:
    """Put right every household whose kept columns disagree with its people — an operator's repair, after a
    restore or a load that skipped the triggers — and return how many there were. On PostgreSQL the
    household's own trigger (which keeps the columns against any other write) lets this statement through
    by a flag set for this transaction only."""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config('registry.household_kept_refill', 'on', true)")
        cursor.execute(
            f"UPDATE registry_household SET living_members = t.n, head_name = t.head"  # noqa: S608
            f" FROM ({_TRUE}) t WHERE t.id = registry_household.id"
            " AND (registry_household.living_members <> t.n OR registry_household.head_name <> t.head)"
        )
        fixed = cursor.rowcount
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config('registry.household_kept_refill', 'off', true)")
    return fixed
