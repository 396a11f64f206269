"""On PostgreSQL, fund entries and fee payments refuse UPDATE and DELETE.

A fund's books and a household's payments are corrected by new rows, never by editing
history (as the credit ledger, DESIGN §4). TRUNCATE (test teardown) is left alone.
"""

from django.db import migrations

TABLES = ("property_mgmt_fundentry", "property_mgmt_feepayment")

CREATE = """
CREATE OR REPLACE FUNCTION property_mgmt_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '%% is append-only: %% refused (add a correction)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""  # "%%" is one "%": the schema editor formats SQL with parameters

TRIGGER = """
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
CREATE TRIGGER {table}_append_only
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION property_mgmt_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)
        for table in TABLES:
            schema_editor.execute(TRIGGER.format(table=table))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        schema_editor.execute("DROP FUNCTION IF EXISTS property_mgmt_append_only();")


class Migration(migrations.Migration):
    dependencies = [("property_mgmt", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
