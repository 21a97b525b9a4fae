"""The disclosure log for years of use: one row per list view, partitioned by month.

A list page (a caseload, a roster, the names a page shows) wrote one row per student
listed: 50 rows, about 22 KB with their indexes, for one caseload page. A row may now
name many students in `student_ids` (integer[], with a GIN index that finds every row
naming a student); `student_id` stays for the views of one record. The rows of one list
are all of one district, so each row stays in one district's chain: the chain trigger
refuses a list that spans districts, names a student twice or names a student that does
not exist.

The hash covers `student_ids`: casemgr_disclosure_hash() takes it as a new argument and
adds a field for it only when it is not null (concat_ws skips nulls), so every row
written before this migration hashes as it did and its chain still verifies.

The table is partitioned by month on `occurred_at` (the primary key becomes (id,
occurred_at); the (chain_district_id, seq) index is no longer unique, since a unique
index must hold the partition key: the chain trigger, which locks the chain's head,
gives each row its own seq, and `verify` names a repeated seq). The partitions live in
the schema `disclosure_partitions`, on which the application role has no privilege: it
reads and appends through `disclosure_log` only. casemgr_disclosure_partition(day)
creates the month of a day (the owner runs it: `casemgr audit partitions`, and `casemgr
audit digest` daily); a DEFAULT partition takes any row of a month not created yet, so
an insert never fails. The existing rows move across as they are (id, seq, prev_hash and
hash kept, not chained again). Row triggers on the partitioned table (append-only, the
chain) apply to every partition; TRUNCATE triggers do not, so each partition gets its
own.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 23:50:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

SCHEMA = 'disclosure_partitions'
MONTHS_AHEAD = 3

COLUMNS = ("id, occurred_at, user_id, organization_id, student_id, action, categories, basis, allowed, reason, "
           "request_path, chain_district_id, seq, prev_hash, hash")

OLD_HASH_SIGNATURE = ("bigint, integer, bigint, timestamptz, integer, integer, integer, text, text[], jsonb, "
                      "boolean, text, text, bytea")
NEW_HASH_SIGNATURE = ("bigint, integer, bigint, timestamptz, integer, integer, integer, integer[], text, text[], "
                      "jsonb, boolean, text, text, bytea")

HASH_FUNCTION = """
    CREATE FUNCTION casemgr_disclosure_hash(
        id bigint, chain integer, seq bigint, occurred_at timestamptz, user_id integer, organization_id integer,
        student_id integer, student_ids integer[], action text, categories text[], basis jsonb, allowed boolean,
        reason text, request_path text, prev_hash bytea
    ) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT sha256(convert_to(concat_ws('|',
            id, chain, seq,
            to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            quote_nullable(user_id), quote_nullable(organization_id), quote_nullable(student_id),
            CASE WHEN student_ids IS NOT NULL THEN 'students:' || quote_literal(student_ids::text) END,
            quote_literal(action), quote_literal(categories::text), quote_literal(basis::text), allowed,
            quote_nullable(reason), quote_nullable(request_path), encode(prev_hash, 'hex')
        ), 'UTF8'))
    $$
"""

CHAIN_TRIGGER_FUNCTION = """
    CREATE OR REPLACE FUNCTION casemgr_disclosure_chain() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
    DECLARE
        head_seq bigint;
        head_hash bytea;
        listed bigint;
        lowest integer;
        highest integer;
    BEGIN
        IF NEW.student_ids IS NOT NULL THEN
            SELECT count(*), min(s.district_id), max(s.district_id) INTO listed, lowest, highest
              FROM students s WHERE s.id = ANY(NEW.student_ids);
            IF NEW.student_id IS NOT NULL OR listed = 0 OR listed <> cardinality(NEW.student_ids)
               OR lowest <> highest THEN
                RAISE EXCEPTION 'a list row of the disclosure log names existing students of one district, '
                                'each once, and no single student'
                    USING ERRCODE = 'check_violation';
            END IF;
            NEW.chain_district_id := lowest;
        ELSE
            NEW.chain_district_id := casemgr_disclosure_chain_district(NEW.student_id, NEW.organization_id);
        END IF;
        SELECT seq, hash INTO head_seq, head_hash
          FROM disclosure_chain_heads WHERE district_id = NEW.chain_district_id FOR UPDATE;
        IF NOT FOUND THEN
            INSERT INTO disclosure_chain_heads (district_id, seq, hash)
                VALUES (NEW.chain_district_id, 0, decode(repeat('00', 32), 'hex'))
                ON CONFLICT (district_id) DO NOTHING;
            SELECT seq, hash INTO head_seq, head_hash
              FROM disclosure_chain_heads WHERE district_id = NEW.chain_district_id FOR UPDATE;
        END IF;
        NEW.seq := head_seq + 1;
        NEW.prev_hash := head_hash;
        NEW.hash := casemgr_disclosure_hash(
            NEW.id, NEW.chain_district_id, NEW.seq, NEW.occurred_at, NEW.user_id, NEW.organization_id,
            NEW.student_id, NEW.student_ids, NEW.action, NEW.categories, NEW.basis, NEW.allowed, NEW.reason,
            NEW.request_path, NEW.prev_hash);
        UPDATE disclosure_chain_heads SET seq = NEW.seq, hash = NEW.hash
         WHERE district_id = NEW.chain_district_id;
        RETURN NEW;
    END
    $$
"""

OLD_CHAIN_TRIGGER_FUNCTION = """
    CREATE OR REPLACE FUNCTION casemgr_disclosure_chain() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
    DECLARE
        head_seq bigint;
        head_hash bytea;
    BEGIN
        NEW.chain_district_id := casemgr_disclosure_chain_district(NEW.student_id, NEW.organization_id);
        SELECT seq, hash INTO head_seq, head_hash
          FROM disclosure_chain_heads WHERE district_id = NEW.chain_district_id FOR UPDATE;
        IF NOT FOUND THEN
            INSERT INTO disclosure_chain_heads (district_id, seq, hash)
                VALUES (NEW.chain_district_id, 0, decode(repeat('00', 32), 'hex'))
                ON CONFLICT (district_id) DO NOTHING;
            SELECT seq, hash INTO head_seq, head_hash
              FROM disclosure_chain_heads WHERE district_id = NEW.chain_district_id FOR UPDATE;
        END IF;
        NEW.seq := head_seq + 1;
        NEW.prev_hash := head_hash;
        NEW.hash := casemgr_disclosure_hash(
            NEW.id, NEW.chain_district_id, NEW.seq, NEW.occurred_at, NEW.user_id, NEW.organization_id,
            NEW.student_id, NEW.action, NEW.categories, NEW.basis, NEW.allowed, NEW.reason, NEW.request_path,
            NEW.prev_hash);
        UPDATE disclosure_chain_heads SET seq = NEW.seq, hash = NEW.hash
         WHERE district_id = NEW.chain_district_id;
        RETURN NEW;
    END
    $$
"""

OLD_HASH_FUNCTION = """
    CREATE FUNCTION casemgr_disclosure_hash(
        id bigint, chain integer, seq bigint, occurred_at timestamptz, user_id integer, organization_id integer,
        student_id integer, action text, categories text[], basis jsonb, allowed boolean, reason text,
        request_path text, prev_hash bytea
    ) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT sha256(convert_to(concat_ws('|',
            id, chain, seq,
            to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            quote_nullable(user_id), quote_nullable(organization_id), quote_nullable(student_id),
            quote_literal(action), quote_literal(categories::text), quote_literal(basis::text), allowed,
            quote_nullable(reason), quote_nullable(request_path), encode(prev_hash, 'hex')
        ), 'UTF8'))
    $$
"""

# the month of `day` as a partition (the months are UTC months); NULL when it exists,
# 'default' when rows of that month already wait in the DEFAULT partition (it is then
# left to the owner: the rows stay where they are, safe, and the month is not created)
PARTITION_FUNCTION = f"""
    CREATE FUNCTION casemgr_disclosure_partition(day date) RETURNS text LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    DECLARE
        first timestamptz := date_trunc('month', day)::timestamp AT TIME ZONE 'UTC';
        next timestamptz := (date_trunc('month', day) + interval '1 month')::timestamp AT TIME ZONE 'UTC';
        name text := 'disclosure_log_' || to_char(day, 'YYYY_MM');
    BEGIN
        IF to_regclass(format('{SCHEMA}.%I', name)) IS NOT NULL THEN
            RETURN NULL;
        END IF;
        IF EXISTS (SELECT 1 FROM {SCHEMA}.disclosure_log_default WHERE occurred_at >= first AND occurred_at < next) THEN
            RETURN 'default';
        END IF;
        EXECUTE format('CREATE TABLE {SCHEMA}.%I PARTITION OF disclosure_log FOR VALUES FROM (%L) TO (%L)',
                       name, first, next);
        EXECUTE format('CREATE TRIGGER disclosure_log_no_truncate BEFORE TRUNCATE ON {SCHEMA}.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION casemgr_append_only()', name);
        RETURN name;
    END
    $$
"""


def _create_partitioned_table(name: str) -> None:
    op.execute(f"""
        CREATE TABLE {name} (
            id bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL,
            occurred_at timestamptz DEFAULT now() NOT NULL,
            user_id integer,
            organization_id integer,
            student_id integer,
            action varchar(16) NOT NULL,
            categories text[] DEFAULT '{{}}' NOT NULL,
            basis jsonb DEFAULT '{{}}' NOT NULL,
            allowed boolean NOT NULL,
            reason text,
            request_path varchar(500),
            chain_district_id integer NOT NULL,
            seq bigint NOT NULL,
            prev_hash bytea NOT NULL,
            hash bytea NOT NULL,
            student_ids integer[],
            CONSTRAINT pk_disclosure_log PRIMARY KEY (id, occurred_at),
            CONSTRAINT ck_disclosure_log_action_valid
                CHECK (action IN ('view', 'export', 'note_written', 'referral', 'denied')),
            CONSTRAINT fk_disclosure_log_organization_id_organizations
                FOREIGN KEY (organization_id) REFERENCES organizations (id),
            CONSTRAINT fk_disclosure_log_student_id_students FOREIGN KEY (student_id) REFERENCES students (id),
            CONSTRAINT fk_disclosure_log_user_id_users FOREIGN KEY (user_id) REFERENCES users (id)
        ) PARTITION BY RANGE (occurred_at)
    """)


def upgrade():
    op.execute(f"CREATE SCHEMA {SCHEMA}")
    op.execute(f"REVOKE ALL ON SCHEMA {SCHEMA} FROM PUBLIC")
    # the old table steps aside with its names
    op.execute("ALTER TABLE disclosure_log RENAME TO disclosure_log_flat")
    op.execute("ALTER TABLE disclosure_log_flat DROP CONSTRAINT pk_disclosure_log")
    for index in ('ix_disclosure_log_org_at', 'ix_disclosure_log_student_at', 'ix_disclosure_log_user_at',
                  'ux_disclosure_log_chain_seq'):
        op.execute(f"DROP INDEX {index}")

    _create_partitioned_table('disclosure_log')
    op.execute(f"CREATE TABLE {SCHEMA}.disclosure_log_default PARTITION OF disclosure_log DEFAULT")
    op.execute(f"CREATE TRIGGER disclosure_log_no_truncate BEFORE TRUNCATE ON {SCHEMA}.disclosure_log_default "
               "FOR EACH STATEMENT EXECUTE FUNCTION casemgr_append_only()")
    op.execute(PARTITION_FUNCTION)
    # every month the old rows span, and the months ahead
    op.execute(f"""
        SELECT casemgr_disclosure_partition(month::date)
          FROM generate_series(
                 date_trunc('month', least(now(), (SELECT min(occurred_at) FROM disclosure_log_flat)) AT TIME ZONE 'UTC'),
                 date_trunc('month', now() AT TIME ZONE 'UTC') + interval '{MONTHS_AHEAD} months',
                 interval '1 month') AS month
    """)
    # the rows as they are: no trigger yet, nothing chained again
    op.execute(f"INSERT INTO disclosure_log ({COLUMNS}) OVERRIDING SYSTEM VALUE "
               f"SELECT {COLUMNS} FROM disclosure_log_flat")
    op.execute("SELECT setval(pg_get_serial_sequence('disclosure_log', 'id'), "
               "coalesce((SELECT max(id) FROM disclosure_log), 0) + 1, false)")
    op.execute("DROP TABLE disclosure_log_flat")

    op.create_index('ix_disclosure_log_student_at', 'disclosure_log', ['student_id', 'occurred_at'],
                    postgresql_where=sa.text('student_id IS NOT NULL'))
    op.create_index('ix_disclosure_log_student_ids', 'disclosure_log', ['student_ids'], postgresql_using='gin',
                    postgresql_where=sa.text('student_ids IS NOT NULL'))
    op.create_index('ix_disclosure_log_user_at', 'disclosure_log', ['user_id', 'occurred_at'])
    op.create_index('ix_disclosure_log_org_at', 'disclosure_log', ['organization_id', 'occurred_at'])
    op.create_index('ix_disclosure_log_chain_seq', 'disclosure_log', ['chain_district_id', 'seq'])
    op.create_index('ix_disclosure_log_occurred_at', 'disclosure_log', ['occurred_at'], postgresql_using='brin')

    op.execute(HASH_FUNCTION)
    op.execute(CHAIN_TRIGGER_FUNCTION)
    op.execute(f"DROP FUNCTION casemgr_disclosure_hash({OLD_HASH_SIGNATURE})")
    op.execute("CREATE TRIGGER disclosure_log_append_only BEFORE UPDATE OR DELETE ON disclosure_log "
               "FOR EACH ROW EXECUTE FUNCTION casemgr_append_only()")
    op.execute("CREATE TRIGGER disclosure_log_no_truncate BEFORE TRUNCATE ON disclosure_log "
               "FOR EACH STATEMENT EXECUTE FUNCTION casemgr_append_only()")
    op.execute("CREATE TRIGGER disclosure_log_chain BEFORE INSERT ON disclosure_log "
               "FOR EACH ROW EXECUTE FUNCTION casemgr_disclosure_chain()")


def downgrade():
    listed = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM disclosure_log WHERE student_ids IS NOT NULL")).scalar_one()
    if listed:
        raise RuntimeError(
            f"the disclosure log holds {listed:,} rows that name a list of students; the schema before 0013 "
            "cannot hold them without breaking their chains, so this downgrade stops here")
    op.execute(f"""
        CREATE TABLE disclosure_log_flat (
            id bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL,
            occurred_at timestamptz DEFAULT now() NOT NULL,
            user_id integer,
            organization_id integer,
            student_id integer,
            action varchar(16) NOT NULL,
            categories text[] DEFAULT '{{}}' NOT NULL,
            basis jsonb DEFAULT '{{}}' NOT NULL,
            allowed boolean NOT NULL,
            reason text,
            request_path varchar(500),
            chain_district_id integer NOT NULL,
            seq bigint NOT NULL,
            prev_hash bytea NOT NULL,
            hash bytea NOT NULL
        )
    """)
    op.execute(f"INSERT INTO disclosure_log_flat ({COLUMNS}) OVERRIDING SYSTEM VALUE "
               f"SELECT {COLUMNS} FROM disclosure_log")
    op.execute("DROP TABLE disclosure_log")
    op.execute(f"DROP SCHEMA {SCHEMA}")
    op.execute("DROP FUNCTION casemgr_disclosure_partition(date)")
    op.execute("ALTER TABLE disclosure_log_flat RENAME TO disclosure_log")
    op.execute("SELECT setval(pg_get_serial_sequence('disclosure_log', 'id'), "
               "coalesce((SELECT max(id) FROM disclosure_log), 0) + 1, false)")
    op.create_primary_key('pk_disclosure_log', 'disclosure_log', ['id'])
    op.create_check_constraint('ck_disclosure_log_action_valid', 'disclosure_log',
                               "action IN ('view', 'export', 'note_written', 'referral', 'denied')")
    op.create_foreign_key('fk_disclosure_log_organization_id_organizations', 'disclosure_log', 'organizations',
                          ['organization_id'], ['id'])
    op.create_foreign_key('fk_disclosure_log_student_id_students', 'disclosure_log', 'students', ['student_id'], ['id'])
    op.create_foreign_key('fk_disclosure_log_user_id_users', 'disclosure_log', 'users', ['user_id'], ['id'])
    op.create_index('ix_disclosure_log_org_at', 'disclosure_log', ['organization_id', 'occurred_at'])
    op.create_index('ix_disclosure_log_student_at', 'disclosure_log', ['student_id', 'occurred_at'])
    op.create_index('ix_disclosure_log_user_at', 'disclosure_log', ['user_id', 'occurred_at'])
    op.create_index('ux_disclosure_log_chain_seq', 'disclosure_log', ['chain_district_id', 'seq'], unique=True)

    op.execute(OLD_HASH_FUNCTION)
    op.execute(OLD_CHAIN_TRIGGER_FUNCTION)
    op.execute(f"DROP FUNCTION casemgr_disclosure_hash({NEW_HASH_SIGNATURE})")
    op.execute("CREATE TRIGGER disclosure_log_append_only BEFORE UPDATE OR DELETE ON disclosure_log "
               "FOR EACH ROW EXECUTE FUNCTION casemgr_append_only()")
    op.execute("CREATE TRIGGER disclosure_log_no_truncate BEFORE TRUNCATE ON disclosure_log "
               "FOR EACH STATEMENT EXECUTE FUNCTION casemgr_append_only()")
    op.execute("CREATE TRIGGER disclosure_log_chain BEFORE INSERT ON disclosure_log "
               "FOR EACH ROW EXECUTE FUNCTION casemgr_disclosure_chain()")
