"""Person names searched by part (人员查询 by one character, 家庭档案 by the head's name): a GIN index on the
set of a name's characters (core/registry/names.py says why not trigrams). PostgreSQL only — the expression
and GIN are its own; SQLite, the embedded default, keeps the plain search."""

from django.db import migrations

CREATE = "CREATE INDEX IF NOT EXISTS person_name_chars_idx ON registry_person USING gin (string_to_array(name, NULL))"
DROP = "DROP INDEX IF EXISTS person_name_chars_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("registry", "0100_issue14_web_household_list_index")]

    operations = [migrations.RunPython(create, drop)]
