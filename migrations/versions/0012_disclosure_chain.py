"""A tamper-evident disclosure log (issue 13): every row is chained by a SHA-256 hash to
the row before it in its district's chain, the hash computed in the transaction that
writes the row; a daily digest of each chain's head is kept in an append-only table.

A row's chain is the district of its student, or, for a row without a student, the
district of its organization (the organization itself when it is a district, a school's
district); a row with neither (a partner's refused request naming no student) goes to
chain 0, the rows of no district.

The BEFORE INSERT trigger locks the chain's head row (disclosure_chain_heads) with
SELECT … FOR UPDATE, so concurrent writers of one district take their turns and each
row's `seq` is one more than its predecessor's; a statement inserting many rows
(INSERT … SELECT) chains them one by one. The hash is sha256 (built into PostgreSQL)
over the row's canonical fields and the previous row's hash (32 zero bytes before the
first row); casemgr_disclosure_hash() is the one definition, used by the trigger and by
`casemgr audit verify`.

Existing rows are chained in the order of their ids.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 22:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


HASH_FUNCTION = """
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

CHAIN_DISTRICT_FUNCTION = """
    CREATE FUNCTION casemgr_disclosure_chain_district(student integer, organization integer)
    RETURNS integer LANGUAGE sql STABLE AS $$
        SELECT coalesce(
            (SELECT s.district_id FROM students s WHERE s.id = student),
            (SELECT coalesce(o.district_id, CASE WHEN o.kind = 'district' THEN o.id END)
               FROM organizations o WHERE o.id = organization),
            0)
    $$
"""

# SECURITY DEFINER: a role that may only insert log rows still moves the chain's head,
# and cannot move it by itself
CHAIN_TRIGGER_FUNCTION = """
    CREATE FUNCTION casemgr_disclosure_chain() RETURNS trigger LANGUAGE plpgsql
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

BACKFILL = """
    DO $$
    DECLARE
        r record;
        chain integer;
        n bigint;
        prev bytea;
        h bytea;
    BEGIN
        FOR r IN SELECT * FROM disclosure_log ORDER BY chain_district_id, id LOOP
            IF chain IS DISTINCT FROM r.chain_district_id THEN
                chain := r.chain_district_id;
                n := 0;
                prev := decode(repeat('00', 32), 'hex');
            END IF;
            n := n + 1;
            h := casemgr_disclosure_hash(
                r.id, chain, n, r.occurred_at, r.user_id, r.organization_id, r.student_id, r.action,
                r.categories, r.basis, r.allowed, r.reason, r.request_path, prev);
            UPDATE disclosure_log SET seq = n, prev_hash = prev, hash = h WHERE id = r.id;
            prev := h;
        END LOOP;
    END
    $$
"""


def upgrade():
    op.create_table('disclosure_chain_heads',
    sa.Column('district_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', postgresql.BYTEA(), nullable=False),
    sa.PrimaryKeyConstraint('district_id', name=op.f('pk_disclosure_chain_heads'))
    )
    op.create_table('disclosure_digests',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', postgresql.BYTEA(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_digests')),
    sa.UniqueConstraint('district_id', 'day', name=op.f('uq_disclosure_digests_district_id_day'))
    )
    op.add_column('disclosure_log', sa.Column('chain_district_id', sa.Integer(), nullable=True))
    op.add_column('disclosure_log', sa.Column('seq', sa.BigInteger(), nullable=True))
    op.add_column('disclosure_log', sa.Column('prev_hash', postgresql.BYTEA(), nullable=True))
    op.add_column('disclosure_log', sa.Column('hash', postgresql.BYTEA(), nullable=True))
    op.execute(HASH_FUNCTION)
    op.execute(CHAIN_DISTRICT_FUNCTION)

    op.execute("ALTER TABLE disclosure_log DISABLE TRIGGER disclosure_log_append_only")
    op.execute("UPDATE disclosure_log SET chain_district_id = casemgr_disclosure_chain_district(student_id, organization_id)")
    op.execute(BACKFILL)
    op.execute("ALTER TABLE disclosure_log ENABLE TRIGGER disclosure_log_append_only")
    op.execute("""
        INSERT INTO disclosure_chain_heads (district_id, seq, hash)
        SELECT DISTINCT ON (chain_district_id) chain_district_id, seq, hash
          FROM disclosure_log ORDER BY chain_district_id, seq DESC
    """)
    for column in ('chain_district_id', 'seq', 'prev_hash', 'hash'):
        op.alter_column('disclosure_log', column, nullable=False)
    op.create_index('ux_disclosure_log_chain_seq', 'disclosure_log', ['chain_district_id', 'seq'], unique=True)

    op.execute(CHAIN_TRIGGER_FUNCTION)
    op.execute("CREATE TRIGGER disclosure_log_chain BEFORE INSERT ON disclosure_log "
               "FOR EACH ROW EXECUTE FUNCTION casemgr_disclosure_chain()")
    op.execute("CREATE TRIGGER disclosure_digests_append_only BEFORE UPDATE OR DELETE ON disclosure_digests "
               "FOR EACH ROW EXECUTE FUNCTION casemgr_append_only()")
    op.execute("CREATE TRIGGER disclosure_digests_no_truncate BEFORE TRUNCATE ON disclosure_digests "
               "FOR EACH STATEMENT EXECUTE FUNCTION casemgr_append_only()")


def downgrade():
    op.execute("DROP TRIGGER disclosure_log_chain ON disclosure_log")
    op.execute("DROP FUNCTION casemgr_disclosure_chain()")
    op.drop_index('ux_disclosure_log_chain_seq', table_name='disclosure_log')
    for column in ('hash', 'prev_hash', 'seq', 'chain_district_id'):
        op.drop_column('disclosure_log', column)
    op.execute("DROP FUNCTION casemgr_disclosure_chain_district(integer, integer)")
    op.execute("DROP FUNCTION casemgr_disclosure_hash(bigint, integer, bigint, timestamptz, integer, integer, "
               "integer, text, text[], jsonb, boolean, text, text, bytea)")
    op.drop_table('disclosure_digests')
    op.drop_table('disclosure_chain_heads')
