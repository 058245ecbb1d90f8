"""PostgreSQL: keys into db_dbnode checked once per statement, not per row.

A foreign key runs one query per deleted node and referencing table: six
for every node, about 0.8 s of deleting 50,000 nodes that otherwise takes
about 1 s. Here each key into db_dbnode (links, memberships, object
references, comments, logs) is kept by statement-level triggers instead,
which ask the same questions of the whole statement's rows at once:

- inserting or updating rows that point at nodes locks those nodes
  (``FOR KEY SHARE``, as a foreign key does, so they cannot go before the
  writer commits) and refuses rows pointing at no node;
- deleting nodes refuses while rows still point at them (``ON DELETE
  RESTRICT``), except comments and log records, which go with their node
  (``ON DELETE CASCADE``), as ``nodes.0009`` declared;
- truncating db_dbnode alone refuses while such rows remain, and a node's
  id never changes.

Violations raise ``foreign_key_violation`` (SQLSTATE 23503), which Django
turns into ``IntegrityError`` as it does for a foreign key. The checks run
when the statement ends, not at commit: nothing here writes a row before
the node it points at. As with any check made in SQL, they see what READ
COMMITTED sees, the isolation level the site runs at.

SQLite keeps Django's foreign keys: it checks them without triggers.
"""

from django.db import migrations

FUNCTIONS = """
CREATE FUNCTION db_dbnode_reference_check() RETURNS trigger
    LANGUAGE plpgsql AS $$
-- TG_ARGV[0]: the column of TG_TABLE_NAME that holds node ids.
DECLARE
    wanted bigint;
    locked bigint;
    missing bigint;
BEGIN
    EXECUTE format(
        'SELECT count(DISTINCT %1$I), '
        '(SELECT count(*) FROM (SELECT n.id FROM db_dbnode n WHERE n.id IN '
        '(SELECT %1$I FROM new_rows) FOR KEY SHARE OF n) AS l) FROM new_rows',
        TG_ARGV[0]
    ) INTO wanted, locked;
    IF wanted <> locked THEN
        EXECUTE format(
            'SELECT %1$I FROM new_rows r WHERE %1$I IS NOT NULL AND NOT EXISTS '
            '(SELECT 1 FROM db_dbnode n WHERE n.id = r.%1$I) LIMIT 1',
            TG_ARGV[0]
        ) INTO missing;
        RAISE EXCEPTION 'insert or update on table "%" violates its key into "db_dbnode"',
            TG_TABLE_NAME
            USING ERRCODE = 'foreign_key_violation',
            DETAIL = format('Key (%s)=(%s) is not present in table "db_dbnode".',
                            TG_ARGV[0], missing);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION db_dbnode_reference_delete() RETURNS trigger
    LANGUAGE plpgsql AS $$
-- TG_ARGV: the referencing table, its column, and CASCADE or RESTRICT.
DECLARE
    found bigint;
BEGIN
    IF TG_ARGV[2] = 'CASCADE' THEN
        EXECUTE format(
            'DELETE FROM %I WHERE %I IN (SELECT id FROM old_nodes)',
            TG_ARGV[0], TG_ARGV[1]
        );
        RETURN NULL;
    END IF;
    EXECUTE format(
        'SELECT %2$I FROM %1$I WHERE %2$I IN (SELECT id FROM old_nodes) LIMIT 1',
        TG_ARGV[0], TG_ARGV[1]
    ) INTO found;
    IF found IS NOT NULL THEN
        RAISE EXCEPTION 'delete on table "db_dbnode" violates the key of "%" into it',
            TG_ARGV[0]
            USING ERRCODE = 'foreign_key_violation',
            DETAIL = format('Key (id)=(%s) is still referenced from table "%s".',
                            found, TG_ARGV[0]);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION db_dbnode_reference_truncate() RETURNS trigger
    LANGUAGE plpgsql AS $$
-- TG_ARGV[0]: a table pointing at nodes; it must have been truncated too.
DECLARE
    remaining boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', TG_ARGV[0]) INTO remaining;
    IF remaining THEN
        RAISE EXCEPTION 'cannot truncate "db_dbnode" while "%" points at it',
            TG_ARGV[0]
            USING ERRCODE = 'feature_not_supported',
            HINT = 'Truncate both in one statement.';
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION db_dbnode_keep_id() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a node''s id never changes (node %)', OLD.id
        USING ERRCODE = 'foreign_key_violation';
END $$;

CREATE TRIGGER db_dbnode_keep_id BEFORE UPDATE OF id ON db_dbnode
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION db_dbnode_keep_id();
"""

# Each foreign key into db_dbnode becomes four triggers with its delete
# action; names stay within PostgreSQL's 63 characters for every table here.
REPLACE_KEYS = """
DO $$
DECLARE
    r record;
    action text;
BEGIN
    FOR r IN
        SELECT c.conname, c.conrelid::regclass::text AS child, a.attname AS col,
               c.confdeltype
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.contype = 'f' AND c.confrelid = 'db_dbnode'::regclass
          AND c.conrelid <> 'db_dbnode'::regclass
    LOOP
        action := CASE WHEN r.confdeltype = 'c' THEN 'CASCADE' ELSE 'RESTRICT' END;
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', r.child, r.conname);
        EXECUTE format(
            'CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
            'FOR EACH STATEMENT EXECUTE FUNCTION db_dbnode_reference_check(%L)',
            r.child || '_' || r.col || '_insert', r.child, r.col
        );
        EXECUTE format(
            'CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS new_rows '
            'FOR EACH STATEMENT EXECUTE FUNCTION db_dbnode_reference_check(%L)',
            r.child || '_' || r.col || '_update', r.child, r.col
        );
        EXECUTE format(
            'CREATE TRIGGER %I AFTER DELETE ON db_dbnode REFERENCING OLD TABLE AS '
            'old_nodes FOR EACH STATEMENT '
            'EXECUTE FUNCTION db_dbnode_reference_delete(%L, %L, %L)',
            r.child || '_' || r.col || '_node_delete', r.child, r.col, action
        );
        EXECUTE format(
            'CREATE TRIGGER %I AFTER TRUNCATE ON db_dbnode FOR EACH STATEMENT '
            'EXECUTE FUNCTION db_dbnode_reference_truncate(%L)',
            r.child || '_' || r.col || '_node_truncate', r.child
        );
    END LOOP;
END $$;
"""

# Back to nodes.0009's foreign keys, read from the delete triggers' arguments.
RESTORE_KEYS = """
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT args[1] AS child, args[2] AS col, args[3] AS action
        FROM (
            SELECT string_to_array(encode(tgargs, 'escape'), '\\000') AS args
            FROM pg_trigger
            WHERE tgrelid = 'db_dbnode'::regclass
              AND tgfoid = 'db_dbnode_reference_delete'::regproc
        ) t
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', r.child || '_' || r.col || '_insert', r.child);
        EXECUTE format('DROP TRIGGER %I ON %I', r.child || '_' || r.col || '_update', r.child);
        EXECUTE format('DROP TRIGGER %I ON db_dbnode', r.child || '_' || r.col || '_node_delete');
        EXECUTE format('DROP TRIGGER %I ON db_dbnode', r.child || '_' || r.col || '_node_truncate');
        EXECUTE format(
            'ALTER TABLE %I ADD CONSTRAINT %I FOREIGN KEY (%I) REFERENCES db_dbnode (id) '
            'ON DELETE %s DEFERRABLE INITIALLY DEFERRED',
            r.child, r.child || '_' || r.col || '_fk_db_dbnode_id', r.col, r.action
        );
    END LOOP;
END $$;
DROP TRIGGER db_dbnode_keep_id ON db_dbnode;
DROP FUNCTION db_dbnode_keep_id();
DROP FUNCTION db_dbnode_reference_truncate();
DROP FUNCTION db_dbnode_reference_delete();
DROP FUNCTION db_dbnode_reference_check();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # No parameters: the % of format() reaches PostgreSQL untouched.
        schema_editor.execute(FUNCTIONS, None)
        schema_editor.execute(REPLACE_KEYS, None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(RESTORE_KEYS, None)


class Migration(migrations.Migration):
    dependencies = [("nodes", "0009_postgresql_delete_actions")]

    operations = [migrations.RunPython(forward, backward)]
