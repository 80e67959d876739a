internal import GRDB
import Foundation
import Synchronization
public import RatingEngine

extension SQLiteLedgerStore {
    public func generate(_ spec: BatchSpec, context: ChangeContext,
                         progress: (@Sendable (Int) -> Void)?) async throws(LedgerError) -> (Batch, [PrintableCard]) {
        try spec.validate()
        var factory = CardFactory(spec: spec, secrets: secrets)
        var cards = factory.candidates(progress: progress)
        let sealing = factory.sealing(cards)
        let batch = try await perform { book throws(LedgerError) in
            factory.replaceIssued(&cards) { book.isIssued($0) }
            return try book.issue(spec, cards: cards, sealed: sealing, context: context)
        }
        progress?(cards.count)
        return (batch, factory.printable(cards, issuedAt: context.at))
    }

    public func batches() async throws(LedgerError) -> [Batch] { try read { $0.batches } }

    public func batch(_ id: Int64) async throws(LedgerError) -> Batch { try read { book throws(LedgerError) in try book.batch(id) } }

    public func export(batch id: Int64) async throws(LedgerError) -> [PrintableCard] {
        let batch = try read { book throws(LedgerError) in try book.batch(id) }
        if batch.vouchers {
            let currency = batch.faceValue.currency
            return try query { db in
                try Row.fetchAll(db, sql: "SELECT code, value, expires_at FROM vouchers WHERE batch_id = ? ORDER BY code", arguments: [id])
                    .map { PrintableCard(pin: $0[0], password: "", value: Money(micros: $0[1], currency: currency), expiresAt: $0[2]) }
            }
        }
        let rows = try query { db in
            try Row.fetchAll(db, sql: """
                SELECT a.pin, s.sealed, a.expires_at FROM accounts a JOIN secrets s ON s.account_id = a.id
                WHERE a.batch_id = ? ORDER BY a.id
                """, arguments: [id]).map { (pin: $0[0] as String, sealed: $0[1] as Data, expiresAt: $0[2] as Int64?) }
        }
        return try secrets.printable(rows, value: batch.faceValue)
    }

    public func setStatus(batch id: Int64, _ status: BatchStatus, context: ChangeContext) async throws(LedgerError) -> Int {
        try await perform { book throws(LedgerError) in try book.setStatus(batch: id, status, context: context) }
    }

    public func account(pin: String) async throws(LedgerError) -> Account {
        try read { book throws(LedgerError) in try book.account(pin: pin) }
    }

    public func account(id: Int64) async throws(LedgerError) -> Account {
        try read { book throws(LedgerError) in try book.account(id: id) }
    }

    public func accounts(ids: [Int64]) async throws(LedgerError) -> [Account] {
        try read { book in ids.compactMap { try? book.account(id: $0) } }
    }

    public func accounts(batch: Int64?, limit: Int, offset: Int) async throws(LedgerError) -> [Account] {
        try read { book in
            let matching = book.accounts.lazy.filter { batch == nil || $0.batchID == batch }
            return Array(matching.dropFirst(max(0, offset)).prefix(max(0, limit)))
        }
    }

    public func setStatus(pin: String, _ status: AccountStatus, context: ChangeContext) async throws(LedgerError) -> Account {
        try await perform { book throws(LedgerError) in
            try book.setStatus(pin: pin, status, context: context)
        }
    }

    public func activate(pin: String, context: ChangeContext) async throws(LedgerError) -> Account {
        try await perform { book throws(LedgerError) in try book.activate(pin: pin, context: context) }
    }

    public func setPassword(pin: String, _ password: String, context: ChangeContext) async throws(LedgerError) {
        guard (4...64).contains(password.utf8.count) else { throw .invalid("a password must be 4-64 bytes") }
        let sealed = try secrets.seal(password)
        try await perform { book throws(LedgerError) in try book.setSecret(pin: pin, sealed: sealed, context: context) }
    }

    public func password(pin: String) async throws(LedgerError) -> String {
        try storedSecret(of: try read { book throws(LedgerError) in try book.accountID(pin: pin) }, pin: pin)
    }

    private func storedSecret(of id: Int64, pin: String) throws(LedgerError) -> String {
        guard let secret = try passwords.secret(of: id) else { throw .storage("no secret stored for PIN \(pin)") }
        return secret
    }

    public func bindANI(pin: String, ani: String, context: ChangeContext) async throws(LedgerError) -> Account {
        try await perform { book throws(LedgerError) in try book.bindANI(pin: pin, ani: ani, context: context) }
    }

    public func account(ani: String) async throws(LedgerError) -> Account? { try read { $0.account(ani: ani) } }

    public func authorise(pin: String, context: ChangeContext) async throws(LedgerError) -> Result<Account, Refusal> {
        try await perform { book in book.authorise(pin: pin, context: context) }
    }

    /// One lock and one look-up of the PIN for both steps: as two calls, a PAP request found the
    /// PIN twice among a million (about 3% of the event loop's samples at the peak).
    public func authorise(pin: String, context: ChangeContext, ifSecret matches: (String) -> Bool) async throws(LedgerError)
        -> Result<Account, Refusal>? {
        try await perform { book throws(LedgerError) in
            let id = try book.accountID(pin: pin)
            guard matches(try storedSecret(of: id, pin: pin)) else { return nil }
            return book.authorise(accountID: id, context: context)
        }
    }

    public func recharge(pin: String, amount: Money, method: PaymentMethod, reference: String,
                         context: ChangeContext) async throws(LedgerError) -> Movement {
        try await perform { book throws(LedgerError) in
            try book.recharge(pin: pin, amount: amount, method: method, reference: reference, context: context)
        }
    }

    public func touchRecharge(pin: String, context: ChangeContext) async throws(LedgerError) -> Account {
        try await perform { book throws(LedgerError) in try book.touchRecharge(pin: pin, context: context) }
    }

    public func adjust(pin: String, amount: Money, reason: String, context: ChangeContext) async throws(LedgerError) -> Movement {
        try await perform { book throws(LedgerError) in try book.adjust(pin: pin, amount: amount, reason: reason, context: context) }
    }

    public func redeem(voucher code: String, pin: String, context: ChangeContext) async throws(LedgerError) -> Movement {
        try await perform { book throws(LedgerError) in try book.redeem(voucher: code, pin: pin, context: context) }
    }

    public func movements(pin: String) async throws(LedgerError) -> [Movement] {
        let id = try read { book throws(LedgerError) in try book.accountID(pin: pin) }
        return try query { db in
            try Row.fetchAll(db, sql: "SELECT * FROM movements WHERE account_id = ? ORDER BY id", arguments: [id])
                .map(SQLiteLoader.movement)
        }
    }

    public func reserve(_ request: ReservationRequest) async throws(LedgerError) -> ReserveOutcome {
        try await performOnReservation { book throws(LedgerError) in try book.reserve(request) }
    }

    public func commit(key: String, cost: Int64, details: String, at: Int64) async throws(LedgerError) -> Reservation {
        try await performOnReservation { book throws(LedgerError) in try book.commit(key: key, cost: cost, details: details, at: at) }
    }

    public func release(key: String, at: Int64) async throws(LedgerError) -> Reservation {
        try await performOnReservation { book throws(LedgerError) in try book.release(key: key, at: at) }
    }

    public func extend(key: String, by amount: Int64, expiresAt: Int64, at: Int64) async throws(LedgerError) -> ReserveOutcome {
        try await performOnReservation { book throws(LedgerError) in
            try book.extend(key: key, by: amount, expiresAt: expiresAt, at: at)
        }
    }

    public func reservation(key: String) async throws(LedgerError) -> Reservation {
        do {
            return try read { book throws(LedgerError) in
                guard let reservation = try book.reservations.find(key) else { throw .unknownReservation(key) }
                return reservation
            }
        } catch .reservationOnDisk(_, let id) {
            return try await storedReservation(id: id)
        }
    }

    /// Runs a book operation on one reservation; if the book keeps that reservation settled (it
    /// closed long ago), reads the row back from disk and runs the operation again on the row
    /// restored, under the same lock, so that nothing settles it in between.
    private func performOnReservation<T: Sendable>(_ body: (inout LedgerBook) throws(LedgerError) -> T) async throws(LedgerError) -> T {
        do {
            return try await perform(body)
        } catch .reservationOnDisk(_, let id) {
            let stored = try await storedReservation(id: id)
            return try await perform { book throws(LedgerError) in
                book.reservations.restore(stored)
                return try body(&book)
            }
        }
    }

    /// A settled reservation as stored. Whatever was decided before it was settled is waited
    /// for first, so the row read is its last state, not one still on its way to disk.
    private func storedReservation(id: Int64) async throws(LedgerError) -> Reservation {
        if let ticket = journal.undurableTicket() { try await journal.waitDurable(ticket) }
        let stored = try query { db in
            try Row.fetchOne(db, sql: "SELECT * FROM reservations WHERE id = ?", arguments: [id]).map(SQLiteLoader.reservation)
        }
        guard let stored else { throw .storage("reservation number \(id) is settled in memory but not stored") }
        return stored
    }

    public func openReservations() async throws(LedgerError) -> [Reservation] {
        try read { $0.openReservations.sorted { ($0.openedAt, $0.key) < ($1.openedAt, $1.key) } }
    }

    public func releaseExpired(now: Int64) async throws(LedgerError) -> Int {
        try await perform { $0.releaseExpired(now: now) }
    }

    public func releaseAll(nas: String, openedBefore before: Int64, at: Int64) async throws(LedgerError) -> Int {
        try await perform { $0.releaseAll(nas: nas, openedBefore: before, at: at) }
    }

    public func auditTrail(limit: Int) async throws(LedgerError) -> [AuditEntry] {
        try query { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY id DESC LIMIT ?", arguments: [limit]).map { row in
                AuditEntry(id: row["id"], at: row["at"], actor: row["actor"], address: row["address"], entity: row["entity"],
                           entityID: row["entity_id"], action: row["action"], oldValue: row["old_value"], newValue: row["new_value"])
            }
        }
    }
}
