internal import GRDB

/// Versioned migrations, applied on start; a version once shipped is never edited, only followed.
enum SQLiteSchema {
    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("1: accounts, batches, vouchers, movements, reservations, audit") { db in
            try db.execute(sql: """
                CREATE TABLE batches (
                    id INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, created_by TEXT NOT NULL,
                    count INTEGER NOT NULL, face_value INTEGER NOT NULL, currency TEXT NOT NULL, plan TEXT NOT NULL,
                    vouchers INTEGER NOT NULL, status TEXT NOT NULL, activation TEXT NOT NULL,
                    validity_days INTEGER, valid_until INTEGER, pin_length INTEGER NOT NULL, series TEXT NOT NULL);
                CREATE TABLE accounts (
                    id INTEGER PRIMARY KEY, pin TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, currency TEXT NOT NULL,
                    balance INTEGER NOT NULL, credit_limit INTEGER NOT NULL, plan TEXT NOT NULL, status TEXT NOT NULL,
                    max_calls INTEGER NOT NULL, batch_id INTEGER, activation TEXT NOT NULL,
                    validity_days INTEGER, valid_until INTEGER, created_at INTEGER NOT NULL, activated_at INTEGER,
                    expires_at INTEGER, last_recharge_at INTEGER, anis TEXT NOT NULL);
                CREATE TABLE secrets (account_id INTEGER PRIMARY KEY, sealed BLOB NOT NULL);
                CREATE TABLE vouchers (
                    code TEXT PRIMARY KEY, batch_id INTEGER NOT NULL, value INTEGER NOT NULL, currency TEXT NOT NULL,
                    status TEXT NOT NULL, redeemed_by INTEGER, redeemed_at INTEGER, expires_at INTEGER);
                CREATE TABLE movements (
                    id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, amount INTEGER NOT NULL, kind TEXT NOT NULL,
                    method TEXT, reference TEXT NOT NULL, actor TEXT NOT NULL, at INTEGER NOT NULL);
                CREATE INDEX movements_by_account ON movements (account_id);
                CREATE TABLE reservations (
                    key TEXT PRIMARY KEY, account_id INTEGER NOT NULL, amount INTEGER NOT NULL, nas TEXT NOT NULL,
                    number TEXT NOT NULL, destination TEXT NOT NULL, opened_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL, state TEXT NOT NULL, final_cost INTEGER, closed_at INTEGER,
                    details TEXT NOT NULL, movement_id INTEGER);
                CREATE INDEX reservations_by_state ON reservations (state, closed_at);
                CREATE TABLE audit (
                    id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, address TEXT NOT NULL,
                    entity TEXT NOT NULL, entity_id TEXT NOT NULL, action TEXT NOT NULL,
                    old_value TEXT NOT NULL, new_value TEXT NOT NULL);
                -- The trail is append-only: the database itself refuses to rewrite history.
                CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;
                CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;
                """)
        }
        // Reservations filed under a number that only grows instead of their key: each new
        // reservation is appended to the table, where a key index put it on a page at random (at
        // the benchmark's peak, a page of log per reservation). The book keeps keys unique.
        migrator.registerMigration("2: reservations by number") { db in
            try db.execute(sql: """
                CREATE TABLE reservations_by_number (
                    id INTEGER PRIMARY KEY, key TEXT NOT NULL, account_id INTEGER NOT NULL, amount INTEGER NOT NULL,
                    nas TEXT NOT NULL, number TEXT NOT NULL, destination TEXT NOT NULL, opened_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL, state TEXT NOT NULL, final_cost INTEGER, closed_at INTEGER,
                    details TEXT NOT NULL, movement_id INTEGER);
                INSERT INTO reservations_by_number SELECT rowid, * FROM reservations ORDER BY rowid;
                DROP TABLE reservations;
                ALTER TABLE reservations_by_number RENAME TO reservations;
                CREATE INDEX reservations_by_state ON reservations (state, closed_at);
                """)
        }
        // Open reservations are found at start from a mark below every one of them
        // (`OpenReservationMark`), not from an index on their state, which cost every new
        // reservation an index entry (about a seventh of the writer's time at the PAP peak) to be
        // read once, at start. Closed ones keep an index of their own, written when they close.
        migrator.registerMigration("3: open reservations from a mark") { db in
            try db.execute(sql: """
                DROP INDEX reservations_by_state;
                CREATE INDEX reservations_closed ON reservations (closed_at) WHERE state <> 'open';
                CREATE TABLE reservation_marks (oldest_open INTEGER NOT NULL);
                INSERT INTO reservation_marks VALUES (COALESCE(
                    (SELECT MIN(id) FROM reservations WHERE state = 'open'),
                    (SELECT COALESCE(MAX(id), 0) + 1 FROM reservations)));
                """)
        }
        // New open reservations packed, one row per write of the group-commit writer
        // (`OpenedReservations`); a reservation gets a row of its own when it changes.
        migrator.registerMigration("4: open reservations packed") { db in
            try db.execute(sql: """
                CREATE TABLE reservations_opened (first_id INTEGER PRIMARY KEY, last_id INTEGER NOT NULL, entries BLOB NOT NULL);
                """)
        }
        return migrator
    }
}
