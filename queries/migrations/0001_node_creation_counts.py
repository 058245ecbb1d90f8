"""PostgreSQL: node counts per local day, type and user, kept by triggers.

Creation statistics then sum a few thousand rows instead of scanning every
node (a second per ten million). Statement-level triggers with transition
tables add one aggregated row per day, type and user for each INSERT,
and subtract for each DELETE (and an UPDATE that moves a node between
days, types or users), whatever wrote the rows: the services, imports,
the admin or plain SQL. Rows are deltas, never updated in place, so
concurrent writers never wait on one another; ``queries.statistics`` folds
them together (``folded`` rows) when unfolded ones pile up. Days are those
of the zone in ``db_dbnode_creation_zone``; ``queries.statistics`` counts
them anew when the site's ``TIME_ZONE`` is another.

SQLite counts its indexes instead (see ``queries.statistics``): nothing is
created there.
"""

from django.db import migrations

CREATE = """
CREATE TABLE db_dbnode_creation_zone (zone text NOT NULL);
INSERT INTO db_dbnode_creation_zone VALUES ('UTC');

CREATE TABLE db_dbnode_creation_count (
    day date NOT NULL,
    node_type varchar(255) NOT NULL,
    user_id integer NOT NULL,
    count bigint NOT NULL,
    folded boolean NOT NULL DEFAULT false
);

CREATE FUNCTION db_dbnode_creation_count_insert() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    zone text := (SELECT z.zone FROM db_dbnode_creation_zone z);
BEGIN
    INSERT INTO db_dbnode_creation_count (day, node_type, user_id, count)
    SELECT (ctime AT TIME ZONE zone)::date, node_type, user_id, count(*)
    FROM inserted GROUP BY 1, 2, 3;
    RETURN NULL;
END $$;

CREATE FUNCTION db_dbnode_creation_count_delete() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    zone text := (SELECT z.zone FROM db_dbnode_creation_zone z);
BEGIN
    INSERT INTO db_dbnode_creation_count (day, node_type, user_id, count)
    SELECT (ctime AT TIME ZONE zone)::date, node_type, user_id, -count(*)
    FROM deleted GROUP BY 1, 2, 3;
    RETURN NULL;
END $$;

CREATE FUNCTION db_dbnode_creation_count_update() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    zone text := (SELECT z.zone FROM db_dbnode_creation_zone z);
BEGIN
    INSERT INTO db_dbnode_creation_count (day, node_type, user_id, count)
    SELECT day, node_type, user_id, sum(n) FROM (
        SELECT (o.ctime AT TIME ZONE zone)::date AS day, o.node_type, o.user_id,
               -1 AS n
        FROM deleted o JOIN inserted i ON i.id = o.id
        WHERE (o.ctime, o.node_type, o.user_id)
              IS DISTINCT FROM (i.ctime, i.node_type, i.user_id)
        UNION ALL
        SELECT (i.ctime AT TIME ZONE zone)::date, i.node_type, i.user_id, 1
        FROM deleted o JOIN inserted i ON i.id = o.id
        WHERE (o.ctime, o.node_type, o.user_id)
              IS DISTINCT FROM (i.ctime, i.node_type, i.user_id)
    ) moved GROUP BY 1, 2, 3 HAVING sum(n) <> 0;
    RETURN NULL;
END $$;

CREATE FUNCTION db_dbnode_creation_count_truncate() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE db_dbnode_creation_count;
    RETURN NULL;
END $$;

CREATE TRIGGER db_dbnode_creation_count_insert AFTER INSERT ON db_dbnode
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION db_dbnode_creation_count_insert();
CREATE TRIGGER db_dbnode_creation_count_delete AFTER DELETE ON db_dbnode
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION db_dbnode_creation_count_delete();
CREATE TRIGGER db_dbnode_creation_count_update AFTER UPDATE ON db_dbnode
    REFERENCING OLD TABLE AS deleted NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION db_dbnode_creation_count_update();
CREATE TRIGGER db_dbnode_creation_count_truncate AFTER TRUNCATE ON db_dbnode
    FOR EACH STATEMENT EXECUTE FUNCTION db_dbnode_creation_count_truncate();

INSERT INTO db_dbnode_creation_count (day, node_type, user_id, count, folded)
SELECT (ctime AT TIME ZONE 'UTC')::date, node_type, user_id, count(*), true
FROM db_dbnode GROUP BY 1, 2, 3;
"""

DROP = """
DROP TRIGGER IF EXISTS db_dbnode_creation_count_insert ON db_dbnode;
DROP TRIGGER IF EXISTS db_dbnode_creation_count_delete ON db_dbnode;
DROP TRIGGER IF EXISTS db_dbnode_creation_count_update ON db_dbnode;
DROP TRIGGER IF EXISTS db_dbnode_creation_count_truncate ON db_dbnode;
DROP FUNCTION IF EXISTS db_dbnode_creation_count_insert();
DROP FUNCTION IF EXISTS db_dbnode_creation_count_delete();
DROP FUNCTION IF EXISTS db_dbnode_creation_count_update();
DROP FUNCTION IF EXISTS db_dbnode_creation_count_truncate();
DROP TABLE IF EXISTS db_dbnode_creation_count;
DROP TABLE IF EXISTS db_dbnode_creation_zone;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("nodes", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
