import Foundation
import GRDB
import Ledger
import Testing

/// A data directory an earlier Ratel wrote opens with everything in it.
struct SQLiteMigrationTests {
    @Test
    func reservationsFiledByKeyKeepTheirStateAndHistory() async throws {
        let fixture = StoreFixture(.sqlite)
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        let at = StoreFixture.now
        let store = try await fixture.open()
        let account = try await StoreFixture.account(in: store, value: "10", maxCalls: 3)
        _ = try await store.reserve(ReservationRequest(key: "done-1", pin: account.pin, amount: 2_000_000, expiresAt: at + 600, at: at))
        _ = try await store.reserve(ReservationRequest(key: "open-1", pin: account.pin, amount: 1_000_000, expiresAt: at + 600, nas: "gw1", at: at))
        let committed = try await store.commit(key: "done-1", cost: 1_500_000, details: "60 s", at: at + 60)
        let open = try await store.openReservations()
        await store.close()

        // Schema version 1 filed reservations under their key, had no mark for open ones, and
        // gave every open reservation a row of its own.
        let database = try DatabaseQueue(path: fixture.directory + "/ledger.sqlite")
        try await database.write { db in
            for reservation in open {
                try db.execute(sql: "INSERT INTO reservations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', NULL, NULL, ?, NULL)", arguments: [
                    reservation.id, reservation.key, reservation.accountID, reservation.amount, reservation.nas, reservation.number,
                    reservation.destination, reservation.openedAt, reservation.expiresAt, reservation.details,
                ])
            }
            try db.execute(sql: """
                CREATE TABLE reservations_by_key (
                    key TEXT PRIMARY KEY, account_id INTEGER NOT NULL, amount INTEGER NOT NULL, nas TEXT NOT NULL,
                    number TEXT NOT NULL, destination TEXT NOT NULL, opened_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL, state TEXT NOT NULL, final_cost INTEGER, closed_at INTEGER,
                    details TEXT NOT NULL, movement_id INTEGER);
                INSERT INTO reservations_by_key SELECT key, account_id, amount, nas, number, destination, opened_at,
                    expires_at, state, final_cost, closed_at, details, movement_id FROM reservations ORDER BY id;
                DROP TABLE reservations;
                ALTER TABLE reservations_by_key RENAME TO reservations;
                CREATE INDEX reservations_by_state ON reservations (state, closed_at);
                DROP TABLE reservation_marks;
                DROP TABLE reservations_opened;
                DELETE FROM grdb_migrations WHERE identifier NOT LIKE '1:%';
                """)
        }
        try database.close()

        let migrated = try await fixture.open()
        #expect(try await migrated.openReservations() == open)
        #expect(try await migrated.reservation(key: "done-1") == committed)
        #expect(try await migrated.commit(key: "done-1", cost: 9_000_000, details: "retry", at: at + 90) == committed)
        _ = try await migrated.reserve(ReservationRequest(key: "open-2", pin: account.pin, amount: 1_000_000, expiresAt: at + 600, at: at + 90))
        await migrated.close()
        let reopened = try await fixture.open()
        #expect(try await reopened.openReservations().map(\.key).sorted() == ["open-1", "open-2"])
        #expect(try await reopened.account(pin: account.pin).balance == 8_500_000)
        #expect(try await reopened.check().problems.isEmpty)
        await reopened.close()
    }
}
