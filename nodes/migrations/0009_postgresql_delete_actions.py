"""PostgreSQL: what happens to rows pointing at a node when the node goes.

Django declares every foreign key ``ON DELETE NO ACTION DEFERRABLE INITIALLY
DEFERRED``. For each deleted node PostgreSQL then runs two queries per
referencing table at commit (is the key back? is it still referenced?):
deleting 50,000 nodes spent most of its time there. AiiDA's own schema asks
for less: comments and log records go with their node (``ON DELETE
CASCADE``), as in aiida-core's ``DbComment`` and ``DbLog``. Links, group
memberships and object references are deleted by the services before their
nodes, so the database need only refuse a node that is still referenced
(``ON DELETE RESTRICT``: one query per table, when the statement ends). Both
stay ``DEFERRABLE INITIALLY DEFERRED`` for the referencing side, which is
checked at commit as before.

SQLite keeps Django's constraints: it checks foreign keys without triggers.
"""

from django.db import migrations

# Tables whose rows go with their node, as in aiida-core; every other table
# pointing at db_dbnode refuses the node's deletion while it points.
CASCADE = ("db_dbcomment", "db_dblog")

REDECLARE = """
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT c.conname, c.conrelid::regclass::text AS child, a.attname AS col
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.contype = 'f' AND c.confrelid = 'db_dbnode'::regclass
          AND c.conrelid <> 'db_dbnode'::regclass
    LOOP
        EXECUTE format('ALTER TABLE %%I DROP CONSTRAINT %%I', r.child, r.conname);
        EXECUTE format(
            'ALTER TABLE %%I ADD CONSTRAINT %%I FOREIGN KEY (%%I) REFERENCES db_dbnode (id) '
            'ON DELETE %%s DEFERRABLE INITIALLY DEFERRED',
            r.child, r.conname, r.col,
            CASE WHEN r.child = ANY(%s) THEN '{cascade}' ELSE '{other}' END
        );
    END LOOP;
END $$;
"""


def redeclare(schema_editor, cascade: str, other: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            REDECLARE.format(cascade=cascade, other=other), [list(CASCADE)]
        )


def forward(apps, schema_editor):
    redeclare(schema_editor, "CASCADE", "RESTRICT")


def backward(apps, schema_editor):
    redeclare(schema_editor, "NO ACTION", "NO ACTION")


class Migration(migrations.Migration):
    dependencies = [
        ("nodes", "0008_group_verbose_name"),
        ("comments", "0001_initial"),
        ("logs", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
