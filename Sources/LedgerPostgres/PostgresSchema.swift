/// Versioned migrations, applied on start under an advisory lock so that nodes starting together
/// apply each one once. A version once shipped is never edited, only followed.
enum PostgresSchema {
    static let migrations: [(version: Int64, name: String, sql: [String])] = [
        (1, "accounts, batches, vouchers, movements, reservations, audit", [
            """
            CREATE TABLE batches (
                id BIGINT PRIMARY KEY, created_at BIGINT NOT NULL, created_by TEXT NOT NULL, count BIGINT NOT NULL,
                face_value BIGINT NOT NULL, currency TEXT NOT NULL, plan TEXT NOT NULL, vouchers BOOLEAN NOT NULL,
                status TEXT NOT NULL, activation TEXT NOT NULL, validity_days BIGINT, valid_until BIGINT,
                pin_length BIGINT NOT NULL, series TEXT NOT NULL)
            """,
            // held and open_calls are the open reservations' sum and count, kept by the same statements
            // that open and close them, so that a reservation is one atomic conditional UPDATE.
            """
            CREATE TABLE accounts (
                id BIGINT PRIMARY KEY, pin TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, currency TEXT NOT NULL,
                balance BIGINT NOT NULL, credit_limit BIGINT NOT NULL, plan TEXT NOT NULL, status TEXT NOT NULL,
                max_calls BIGINT NOT NULL, batch_id BIGINT, activation TEXT NOT NULL, validity_days BIGINT,
                valid_until BIGINT, created_at BIGINT NOT NULL, activated_at BIGINT, expires_at BIGINT,
                last_recharge_at BIGINT, anis TEXT[] NOT NULL,
                held BIGINT NOT NULL DEFAULT 0 CHECK (held >= 0),
                open_calls BIGINT NOT NULL DEFAULT 0 CHECK (open_calls >= 0))
            """,
            "CREATE INDEX accounts_by_batch ON accounts (batch_id)",
            "CREATE TABLE account_anis (ani TEXT PRIMARY KEY, account_id BIGINT NOT NULL REFERENCES accounts (id))",
            "CREATE TABLE secrets (account_id BIGINT PRIMARY KEY REFERENCES accounts (id), sealed BYTEA NOT NULL)",
            """
            CREATE TABLE vouchers (
                code TEXT PRIMARY KEY, batch_id BIGINT NOT NULL REFERENCES batches (id), value BIGINT NOT NULL,
                currency TEXT NOT NULL, status TEXT NOT NULL, redeemed_by BIGINT, redeemed_at BIGINT, expires_at BIGINT)
            """,
            "CREATE INDEX vouchers_by_batch ON vouchers (batch_id)",
            """
            CREATE TABLE movements (
                id BIGSERIAL PRIMARY KEY, account_id BIGINT NOT NULL REFERENCES accounts (id), amount BIGINT NOT NULL,
                kind TEXT NOT NULL, method TEXT, reference TEXT NOT NULL, actor TEXT NOT NULL, at BIGINT NOT NULL)
            """,
            "CREATE INDEX movements_by_account ON movements (account_id)",
            // The database itself refuses a second debit for one call.
            "CREATE UNIQUE INDEX movements_one_debit_per_call ON movements (reference) WHERE kind = 'call'",
            """
            CREATE TABLE reservations (
                key TEXT PRIMARY KEY, account_id BIGINT NOT NULL REFERENCES accounts (id), amount BIGINT NOT NULL,
                nas TEXT NOT NULL, number TEXT NOT NULL, destination TEXT NOT NULL, opened_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL, state TEXT NOT NULL, final_cost BIGINT, closed_at BIGINT,
                details TEXT NOT NULL, movement_id BIGINT)
            """,
            "CREATE INDEX reservations_open_by_expiry ON reservations (expires_at) WHERE state = 'open'",
            "CREATE INDEX reservations_open_by_nas ON reservations (nas, opened_at) WHERE state = 'open'",
            """
            CREATE TABLE audit (
                id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL, address TEXT NOT NULL,
                entity TEXT NOT NULL, entity_id TEXT NOT NULL, action TEXT NOT NULL,
                old_value TEXT NOT NULL, new_value TEXT NOT NULL)
            """,
            """
            CREATE FUNCTION ratel_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'audit trail is append-only'; END $$
            """,
            """
            CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit
            FOR EACH STATEMENT EXECUTE FUNCTION ratel_audit_append_only()
            """,
            // A sealed probe, so that a node started with another key file is refused at once
            // instead of sealing secrets the other nodes cannot open.
            "CREATE TABLE ledger_key_check (only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row), sealed BYTEA NOT NULL)",
        ]),
        // Calls that arrive together are settled together: one function call, one transaction and
        // one commit for many reservations or commits. Each call's statements are the single-call
        // ones, run in order; a batch first locks its accounts in id order, so two batches never
        // wait on each other in a cycle.
        (2, "reserve and commit many calls in one statement", [
            """
            CREATE FUNCTION ratel_reserve_many(p_keys TEXT[], p_pins TEXT[], p_amounts BIGINT[], p_nases TEXT[],
                p_numbers TEXT[], p_destinations TEXT[], p_at BIGINT[], p_expires BIGINT[])
            RETURNS SETOF reservations LANGUAGE plpgsql AS $$
            DECLARE
                i INTEGER;
                holder BIGINT;
                made reservations;
            BEGIN
                PERFORM 1 FROM accounts WHERE pin = ANY (p_pins) ORDER BY id FOR UPDATE;
                FOR i IN 1 .. coalesce(array_length(p_keys, 1), 0) LOOP
                    SELECT * INTO made FROM reservations WHERE key = p_keys[i];
                    IF FOUND THEN
                        RETURN NEXT made;
                        CONTINUE;
                    END IF;
                    UPDATE accounts SET held = held + p_amounts[i], open_calls = open_calls + 1
                    WHERE pin = p_pins[i] AND status = 'active' AND (expires_at IS NULL OR expires_at > p_at[i])
                      AND open_calls < max_calls AND balance + credit_limit - held >= p_amounts[i]
                    RETURNING id INTO holder;
                    CONTINUE WHEN NOT FOUND;
                    INSERT INTO reservations (key, account_id, amount, nas, number, destination, opened_at, expires_at,
                                              state, details)
                    VALUES (p_keys[i], holder, p_amounts[i], p_nases[i], p_numbers[i], p_destinations[i], p_at[i],
                            p_expires[i], 'open', '')
                    ON CONFLICT (key) DO NOTHING
                    RETURNING * INTO made;
                    IF FOUND THEN
                        RETURN NEXT made;
                    ELSE
                        UPDATE accounts SET held = held - p_amounts[i], open_calls = open_calls - 1 WHERE id = holder;
                    END IF;
                END LOOP;
            END $$
            """,
            """
            CREATE FUNCTION ratel_commit_many(p_keys TEXT[], p_costs BIGINT[], p_details TEXT[], p_at BIGINT[])
            RETURNS SETOF reservations LANGUAGE plpgsql AS $$
            DECLARE
                i INTEGER;
                old reservations;
                debit BIGINT;
                done reservations;
            BEGIN
                PERFORM 1 FROM accounts WHERE id IN (SELECT account_id FROM reservations WHERE key = ANY (p_keys))
                ORDER BY id FOR UPDATE;
                FOR i IN 1 .. coalesce(array_length(p_keys, 1), 0) LOOP
                    SELECT * INTO old FROM reservations WHERE key = p_keys[i] FOR UPDATE;
                    CONTINUE WHEN NOT FOUND;
                    IF old.state = 'committed' THEN
                        RETURN NEXT old;
                        CONTINUE;
                    END IF;
                    -- A commit after a release or expiry still debits (a late Stop): it held nothing then.
                    INSERT INTO movements (account_id, amount, kind, method, reference, actor, at)
                    VALUES (old.account_id, -p_costs[i], 'call', NULL, old.key,
                            CASE WHEN old.nas = '' THEN 'ledger' ELSE 'nas:' || old.nas END, p_at[i])
                    RETURNING id INTO debit;
                    UPDATE accounts SET balance = balance - p_costs[i],
                        held = held - CASE WHEN old.state = 'open' THEN old.amount ELSE 0 END,
                        open_calls = open_calls - CASE WHEN old.state = 'open' THEN 1 ELSE 0 END
                    WHERE id = old.account_id;
                    UPDATE reservations SET state = 'committed', final_cost = p_costs[i], closed_at = p_at[i],
                        details = p_details[i], amount = CASE WHEN old.state = 'open' THEN old.amount ELSE 0 END,
                        movement_id = debit
                    WHERE key = old.key
                    RETURNING * INTO done;
                    RETURN NEXT done;
                END LOOP;
            END $$
            """,
        ]),
        // Numbered in the order they were made, as the embedded store numbers them; existing rows
        // are numbered in table order.
        (3, "reservation numbers", ["ALTER TABLE reservations ADD COLUMN id BIGSERIAL"]),
    ]
}
