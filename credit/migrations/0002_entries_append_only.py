"""On PostgreSQL, the ledger refuses UPDATE and DELETE of entries (DESIGN §4).

A mistake is corrected by a reversal entry, never by editing history. TRUNCATE (used
by test teardown and by nothing in the application) is left alone.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION credit_entry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'credit_pointsentry is append-only: %% refused (use a reversal entry)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS credit_entry_append_only ON credit_pointsentry;
CREATE TRIGGER credit_entry_append_only
    BEFORE UPDATE OR DELETE ON credit_pointsentry
    FOR EACH ROW EXECUTE FUNCTION credit_entry_append_only();
"""  # "%%" is one "%": the schema editor formats SQL with parameters

DROP = """
DROP TRIGGER IF EXISTS credit_entry_append_only ON credit_pointsentry;
DROP FUNCTION IF EXISTS credit_entry_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("credit", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
