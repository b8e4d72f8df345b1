"""On PostgreSQL, refuse UPDATE and DELETE of transition log rows in the database itself, so the audit
trail holds even against raw SQL or a future bug that bypasses the model."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION workflow_transitionlog_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '流转记录不可修改或删除 (workflow_transitionlog is append-only)';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS workflow_transitionlog_immutable ON workflow_transitionlog;
CREATE TRIGGER workflow_transitionlog_immutable
    BEFORE UPDATE OR DELETE ON workflow_transitionlog
    FOR EACH ROW EXECUTE FUNCTION workflow_transitionlog_immutable();
"""
DROP = """
DROP TRIGGER IF EXISTS workflow_transitionlog_immutable ON workflow_transitionlog;
DROP FUNCTION IF EXISTS workflow_transitionlog_immutable();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("workflow", "0003_seed_calendar")]

    operations = [migrations.RunPython(forwards, backwards)]
