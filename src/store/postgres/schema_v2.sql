-- tickproof registry schema, version 2: each chain's keyring and the head receipts issued with
-- every record. Applied by `tickproof store migrate` after version 1, in the same transaction.

-- The keyring of each signed chain (JSON, signed by a key it holds; see record::keyring).
CREATE TABLE keyrings (
    chain_id text PRIMARY KEY,
    branch   text,
    body     text NOT NULL
);

-- The head receipt issued with each record (JSON, see record::receipt), append-only.
CREATE TABLE receipts (
    sha256   text PRIMARY KEY,
    chain_id text NOT NULL,
    head_seq bigint NOT NULL,
    claim_id text NOT NULL,
    revision integer NOT NULL,
    branch   text,
    body     text NOT NULL,
    UNIQUE (claim_id, revision)
);
CREATE TRIGGER receipts_append_only BEFORE UPDATE OR DELETE ON receipts
    FOR EACH ROW EXECUTE FUNCTION tickproof_refuse_change();
CREATE TRIGGER receipts_no_truncate BEFORE TRUNCATE ON receipts
    FOR EACH STATEMENT EXECUTE FUNCTION tickproof_refuse_change();

ALTER TABLE keyrings ENABLE ROW LEVEL SECURITY;
ALTER TABLE receipts ENABLE ROW LEVEL SECURITY;
CREATE POLICY keyrings_all ON keyrings FOR ALL TO tickproof_admin USING (true) WITH CHECK (true);
CREATE POLICY keyrings_read_all ON keyrings FOR SELECT TO tickproof_auditor USING (true);
CREATE POLICY keyrings_own ON keyrings FOR ALL TO tickproof_technician
    USING (branch = tickproof_my_branch()) WITH CHECK (branch IS NOT NULL AND branch = tickproof_my_branch());
CREATE POLICY receipts_read_all ON receipts FOR SELECT TO tickproof_auditor, tickproof_admin USING (true);
CREATE POLICY receipts_write_admin ON receipts FOR INSERT TO tickproof_admin WITH CHECK (true);
CREATE POLICY receipts_read_own ON receipts FOR SELECT TO tickproof_technician
    USING (branch = tickproof_my_branch());
CREATE POLICY receipts_write_own ON receipts FOR INSERT TO tickproof_technician
    WITH CHECK (branch IS NOT NULL AND branch = tickproof_my_branch());

REVOKE ALL ON keyrings, receipts FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON keyrings TO tickproof_technician, tickproof_admin;
GRANT SELECT ON keyrings, receipts TO tickproof_auditor;
GRANT SELECT, INSERT ON receipts TO tickproof_technician, tickproof_admin;
