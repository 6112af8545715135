-- tickproof registry schema, version 1. Applied by `tickproof store migrate` in one transaction,
-- as the owner of the database (its administrator or a superuser).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tickproof_technician') THEN
        CREATE ROLE tickproof_technician NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tickproof_auditor') THEN
        CREATE ROLE tickproof_auditor NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tickproof_admin') THEN
        CREATE ROLE tickproof_admin NOLOGIN;
    END IF;
END $$;

-- Which branch each technician's login role works at.
CREATE TABLE branch_member (
    role_name name PRIMARY KEY,
    branch    text NOT NULL CHECK (branch ~ '^[A-Z0-9]{1,16}$')
);

-- The head of every chain: moved only by the insert trigger on records, under a row lock.
CREATE TABLE chains (
    chain_id    text PRIMARY KEY,
    branch      text,
    head_seq    bigint NOT NULL,
    head_sha256 text NOT NULL
);

CREATE TABLE records (
    chain_id    text NOT NULL,
    seq         bigint NOT NULL,
    sha256      text NOT NULL UNIQUE,
    prev_sha256 text NOT NULL,
    claim_id    text NOT NULL,
    revision    integer NOT NULL,
    branch      text,
    created_utc text NOT NULL,
    brand       text NOT NULL,
    model       text NOT NULL,
    serial      text NOT NULL,
    verdict     text,
    body        bytea NOT NULL,
    signature   text,
    PRIMARY KEY (chain_id, seq),
    UNIQUE (claim_id, revision)
);
CREATE INDEX records_model ON records (lower(model));

-- Evidence, content-addressed: the chunks of one upload, then the row that names it complete.
CREATE SEQUENCE evidence_upload;
CREATE TABLE evidence_chunk (
    upload bigint NOT NULL,
    n      integer NOT NULL,
    bytes  bytea NOT NULL,
    PRIMARY KEY (upload, n)
);
CREATE TABLE evidence (
    sha256     text PRIMARY KEY,
    size_bytes bigint NOT NULL,
    upload     bigint NOT NULL UNIQUE,
    chunks     integer NOT NULL
);

CREATE FUNCTION tickproof_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'tickproof % is append-only: % refused', TG_TABLE_NAME, TG_OP;
END $$;
CREATE TRIGGER records_append_only BEFORE UPDATE OR DELETE ON records
    FOR EACH ROW EXECUTE FUNCTION tickproof_refuse_change();
CREATE TRIGGER records_no_truncate BEFORE TRUNCATE ON records
    FOR EACH STATEMENT EXECUTE FUNCTION tickproof_refuse_change();
CREATE TRIGGER evidence_append_only BEFORE UPDATE OR DELETE ON evidence
    FOR EACH ROW EXECUTE FUNCTION tickproof_refuse_change();
CREATE TRIGGER evidence_no_truncate BEFORE TRUNCATE ON evidence
    FOR EACH STATEMENT EXECUTE FUNCTION tickproof_refuse_change();
CREATE TRIGGER evidence_chunk_append_only BEFORE UPDATE OR DELETE ON evidence_chunk
    FOR EACH ROW EXECUTE FUNCTION tickproof_refuse_change();
CREATE TRIGGER evidence_chunk_no_truncate BEFORE TRUNCATE ON evidence_chunk
    FOR EACH STATEMENT EXECUTE FUNCTION tickproof_refuse_change();

-- Every record must continue its chain's head; the head moves with it, under a row lock, so
-- that no two writers can ever fork a chain whatever the clients do.
CREATE FUNCTION tickproof_advance_head() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    h chains%ROWTYPE;
BEGIN
    SELECT * INTO h FROM chains WHERE chain_id = NEW.chain_id FOR UPDATE;
    IF NOT FOUND THEN
        IF NEW.seq <> 1 OR NEW.prev_sha256 <> repeat('0', 64) THEN
            RAISE EXCEPTION 'chain %: record % does not start the chain', NEW.chain_id, NEW.seq;
        END IF;
        INSERT INTO chains (chain_id, branch, head_seq, head_sha256)
            VALUES (NEW.chain_id, NEW.branch, NEW.seq, NEW.sha256);
    ELSE
        IF NEW.seq <> h.head_seq + 1 OR NEW.prev_sha256 <> h.head_sha256 THEN
            RAISE EXCEPTION 'chain %: record % does not follow its head (record %); refused, the chain would fork',
                NEW.chain_id, NEW.seq, h.head_seq;
        END IF;
        UPDATE chains SET head_seq = NEW.seq, head_sha256 = NEW.sha256 WHERE chain_id = NEW.chain_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER records_advance_head BEFORE INSERT ON records
    FOR EACH ROW EXECUTE FUNCTION tickproof_advance_head();

-- The branch of the session's login role (NULL for roles that are not technicians).
CREATE FUNCTION tickproof_my_branch() RETURNS text LANGUAGE sql STABLE
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT branch FROM branch_member WHERE role_name = session_user
$$;

ALTER TABLE records ENABLE ROW LEVEL SECURITY;
ALTER TABLE chains ENABLE ROW LEVEL SECURITY;
CREATE POLICY records_read_all ON records FOR SELECT TO tickproof_auditor, tickproof_admin USING (true);
CREATE POLICY records_write_admin ON records FOR INSERT TO tickproof_admin WITH CHECK (true);
CREATE POLICY records_read_own ON records FOR SELECT TO tickproof_technician
    USING (branch = tickproof_my_branch());
CREATE POLICY records_write_own ON records FOR INSERT TO tickproof_technician
    WITH CHECK (branch IS NOT NULL AND branch = tickproof_my_branch());
CREATE POLICY chains_read_all ON chains FOR SELECT TO tickproof_auditor, tickproof_admin USING (true);
CREATE POLICY chains_read_own ON chains FOR SELECT TO tickproof_technician
    USING (branch = tickproof_my_branch());

REVOKE ALL ON branch_member, chains, records, evidence, evidence_chunk, tickproof_schema FROM PUBLIC;
REVOKE ALL ON SEQUENCE evidence_upload FROM PUBLIC;
GRANT SELECT ON tickproof_schema, chains TO tickproof_technician, tickproof_auditor, tickproof_admin;
GRANT SELECT, INSERT ON records, evidence, evidence_chunk TO tickproof_technician, tickproof_admin;
GRANT SELECT ON records, evidence, evidence_chunk TO tickproof_auditor;
GRANT USAGE ON SEQUENCE evidence_upload TO tickproof_technician, tickproof_admin;
GRANT SELECT, INSERT, DELETE ON branch_member TO tickproof_admin;
