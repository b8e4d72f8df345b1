"""The living members of each household (`Household.living_members`), kept by the database.

Every write of a person — a service, an import, a bulk load, a data fix in SQL — moves the count, because
triggers on registry_person do it, not the code that wrote the person (issue 14: the 家庭档案 list sorted
by 人数 counted a district's ~100,000 members on every request):

- PostgreSQL: one statement-level trigger per event, with its transition tables, adds the statement's
  changes grouped by household (a COPY of 25,000 people is one UPDATE, not 25,000). A BEFORE trigger on
  registry_household keeps the count as it was unless the write comes from those triggers
  (`pg_trigger_depth() >= 2`): a household saved from a form loaded before a member was added cannot put
  back its stale count. (`session_replication_role = replica` — generate_city's load — skips both: the
  load writes the counts itself.)
- SQLite (make run, the demo): row triggers count the household's members again after each change, and
  after any save of the household that could have carried a stale count. A migration that remakes one
  of the two tables on SQLite drops its triggers; `ensure_sqlite_triggers` (after every migrate) puts
  them back and counts again.

`mismatches()` lists the households whose kept count differs from their members: the tests' check, and
an operator's after a restore.
"""

from django.db import connection as default_connection

FILL = """
UPDATE registry_household SET living_members = (
    SELECT COUNT(*) FROM registry_person p
    WHERE p.household_id = registry_household.id AND p.death_date IS NULL
)
"""

PG_CREATE = """
CREATE FUNCTION registry_household_living_members_kept() RETURNS trigger AS $$
BEGIN
    -- Only the person triggers (one level down) move the count; any other write of a household keeps it.
    IF pg_trigger_depth() < 2 THEN
        IF TG_OP = 'INSERT' THEN
            NEW.living_members := 0;
        ELSE
            NEW.living_members := OLD.living_members;
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER registry_household_living_members_kept
    BEFORE INSERT OR UPDATE ON registry_household
    FOR EACH ROW EXECUTE FUNCTION registry_household_living_members_kept();

CREATE FUNCTION registry_person_living_members() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE registry_household h SET living_members = h.living_members + d.n
        FROM (SELECT household_id, COUNT(*) AS n FROM new_rows
              WHERE household_id IS NOT NULL AND death_date IS NULL GROUP BY household_id) d
        WHERE h.id = d.household_id;
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
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER registry_person_living_members_insert
    AFTER INSERT ON registry_person REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_person_living_members();
CREATE TRIGGER registry_person_living_members_update
    AFTER UPDATE ON registry_person REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_person_living_members();
CREATE TRIGGER registry_person_living_members_delete
    AFTER DELETE ON registry_person REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_person_living_members();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS registry_person_living_members_insert ON registry_person;
DROP TRIGGER IF EXISTS registry_person_living_members_update ON registry_person;
DROP TRIGGER IF EXISTS registry_person_living_members_delete ON registry_person;
DROP FUNCTION IF EXISTS registry_person_living_members();
DROP TRIGGER IF EXISTS registry_household_living_members_kept ON registry_household;
DROP FUNCTION IF EXISTS registry_household_living_members_kept();
"""

_RECOUNT = """
    UPDATE registry_household SET living_members = (
        SELECT COUNT(*) FROM registry_person p WHERE p.household_id = {id} AND p.death_date IS NULL
    ) WHERE id = {id};"""
# Any column of the household but the count: a save from Django sets them all (and the stale count with
# them); the person triggers set only the count, so they do not fire this one.
_HOUSEHOLD_COLUMNS = (
    "number, region_id, region_code, address, area_type, head_id, phone, bank_name, bank_account, "
    "account_holder, is_active, created_by_id, created_at, updated_at"
)
SQLITE_CREATE = [
    "CREATE TRIGGER registry_person_living_members_insert AFTER INSERT ON registry_person "
    "WHEN NEW.household_id IS NOT NULL BEGIN" + _RECOUNT.format(id="NEW.household_id") + " END",
    "CREATE TRIGGER registry_person_living_members_delete AFTER DELETE ON registry_person "
    "WHEN OLD.household_id IS NOT NULL BEGIN" + _RECOUNT.format(id="OLD.household_id") + " END",
    "CREATE TRIGGER registry_person_living_members_update AFTER UPDATE OF household_id, death_date "
    "ON registry_person BEGIN"
    + _RECOUNT.format(id="OLD.household_id")
    + _RECOUNT.format(id="NEW.household_id")
    + " END",
    f"CREATE TRIGGER registry_household_living_members_kept AFTER UPDATE OF {_HOUSEHOLD_COLUMNS} "
    "ON registry_household BEGIN" + _RECOUNT.format(id="NEW.id") + " END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS registry_person_living_members_insert",
    "DROP TRIGGER IF EXISTS registry_person_living_members_delete",
    "DROP TRIGGER IF EXISTS registry_person_living_members_update",
    "DROP TRIGGER IF EXISTS registry_household_living_members_kept",
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
    """post_migrate: on SQLite, the triggers a table remake dropped are created again and the counts
    filled in again (nothing to do on PostgreSQL, whose ALTER TABLE keeps triggers)."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    applied = MigrationRecorder(connection).applied_migrations()
    if ("registry", "0107_household_living_members") not in applied:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
            ["registry_%_living_members%"],
        )
        if cursor.fetchone()[0] == len(SQLITE_CREATE):
            return
        for statement in SQLITE_DROP:
            cursor.execute(statement)
        cursor.execute(FILL)
        for statement in SQLITE_CREATE:
            cursor.execute(statement)


def mismatches(connection=default_connection, limit: int = 100) -> list[tuple[int, int, int]]:
    """(household id, kept count, living members counted) of households whose count is wrong."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT h.id, h.living_members, COALESCE(c.n, 0) FROM registry_household h
            LEFT JOIN (SELECT household_id, COUNT(*) AS n FROM registry_person
                       WHERE death_date IS NULL AND household_id IS NOT NULL GROUP BY household_id) c
                   ON c.household_id = h.id
            WHERE h.living_members <> COALESCE(c.n, 0) ORDER BY h.id LIMIT %s
            """,
            [limit],
        )
        return [tuple(row) for row in cursor.fetchall()]
