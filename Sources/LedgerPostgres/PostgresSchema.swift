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
    ]
}
