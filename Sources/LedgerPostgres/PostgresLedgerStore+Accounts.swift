import Foundation
public import Ledger
import Logging
import PostgresNIO
public import RatingEngine

extension PostgresLedgerStore {
    public func generate(_ spec: BatchSpec, context: ChangeContext,
                         progress: (@Sendable (Int) -> Void)?) async throws(LedgerError) -> (Batch, [PrintableCard]) {
        try spec.validate()
        var factory = CardFactory(spec: spec, secrets: secrets)
        let candidates = factory.candidates(progress: progress)
        let sealing = factory.sealing(candidates)
        let logger = logger
        let (batch, cards) = try await transaction { [factory] connection in
            // One issuer at a time across all nodes: a batch's account ids are contiguous.
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.issueLock))", logger: logger)
            var factory = factory
            var cards = candidates
            var taken = Set<String>()
            while true {
                let found = try await Self.issued(among: cards.map(\.pin), on: connection, logger: logger)
                if found.isEmpty { break }
                taken.formUnion(found)
                factory.replaceIssued(&cards) { taken.contains($0) }
            }
            let firstAccount = try await Self.next("accounts", on: connection, logger: logger)
            let firstBatch = try await Self.next("batches", on: connection, logger: logger)
            var book = LedgerBook(firstAccountID: firstAccount, firstBatchID: firstBatch)
            let batch = try book.issue(spec, cards: cards, sealed: sealing, context: context)
            _ = try await PostgresJournal.write(book.drainRecords(), on: connection, logger: logger)
            return (batch, cards)
        }
        progress?(cards.count)
        return (batch, factory.printable(cards, issuedAt: context.at))
    }

    /// The codes among `codes` that an account or voucher already has.
    static func issued(among codes: [String], on connection: PostgresConnection, logger: Logger) async throws -> Set<String> {
        var found = Set<String>()
        var start = 0
        while start < codes.count {
            let chunk = Array(codes[start..<min(start + 50_000, codes.count)])
            let rows = try await connection.query("""
                SELECT pin FROM accounts WHERE pin = ANY(\(chunk)) UNION ALL SELECT code FROM vouchers WHERE code = ANY(\(chunk))
                """, logger: logger)
            for try await code in rows.decode(String.self) { found.insert(code) }
            start += chunk.count
        }
        return found
    }

    static func next(_ table: String, on connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        var next: Int64 = 1
        for try await id in try await connection.query("SELECT COALESCE(MAX(id), 0) + 1 FROM \(unescaped: table)", logger: logger)
            .decode(Int64.self) { next = id }
        return next
    }

    public func batches() async throws(LedgerError) -> [Batch] {
        try await decodeAll(rows("SELECT * FROM batches ORDER BY id")) { try PostgresRows.batch($0).0 }
    }

    public func batch(_ id: Int64) async throws(LedgerError) -> Batch {
        guard let batch = try await decodeAll(rows("SELECT * FROM batches WHERE id = \(id)"), { try PostgresRows.batch($0).0 }).first
        else { throw .unknownBatch(id) }
        return batch
    }

    public func export(batch id: Int64) async throws(LedgerError) -> [PrintableCard] {
        let batch = try await batch(id)
        if batch.vouchers {
            return try await decodeAll(rows("SELECT * FROM vouchers WHERE batch_id = \(id) ORDER BY code")) { row in
                let voucher = try PostgresRows.voucher(row)
                return PrintableCard(pin: voucher.code, password: "", value: voucher.value, expiresAt: voucher.expiresAt)
            }
        }
        let sealed = try await decodeAll(rows("""
            SELECT a.pin, s.sealed, a.expires_at FROM accounts a JOIN secrets s ON s.account_id = a.id
            WHERE a.batch_id = \(id) ORDER BY a.id
            """)) { row in
            let column = Columns(row)
            return (pin: try column("pin") as String, sealed: try column("sealed") as Data, expiresAt: try column("expires_at") as Int64?)
        }
        return try secrets.printable(sealed, value: batch.faceValue)
    }

    public func setStatus(batch id: Int64, _ status: BatchStatus, context: ChangeContext) async throws(LedgerError) -> Int {
        let logger = logger
        return try await transaction { connection in
            var book = try await Self.slice(SliceRequest(batch: id), on: connection, logger: logger)
            _ = try book.setStatus(batch: id, status, context: context)
            _ = try await PostgresJournal.write(book.drainRecords(), on: connection, logger: logger)
            // The cards themselves change in one statement each, by the book's rule: enabling returns
            // a card to where it was before it was disabled; dropped cards and used vouchers stay.
            let accounts = try await connection.query("""
                UPDATE accounts SET status = CASE WHEN \(status.rawValue) = 'enabled'
                    THEN (CASE WHEN activated_at IS NULL THEN 'inactive' ELSE 'active' END) ELSE \(status.rawValue) END
                WHERE batch_id = \(id) AND status <> 'dropped'
                  AND ((\(status.rawValue) = 'enabled' AND status = 'disabled') OR (\(status.rawValue) <> 'enabled' AND status <> \(status.rawValue)))
                RETURNING id
                """, logger: logger).collect()
            let vouchers = try await connection.query("""
                UPDATE vouchers SET status = \(status.rawValue)
                WHERE batch_id = \(id) AND redeemed_by IS NULL AND status <> 'dropped' AND status <> \(status.rawValue)
                RETURNING code
                """, logger: logger).collect()
            return accounts.count + vouchers.count
        }
    }

    public func account(pin: String) async throws(LedgerError) -> Account {
        guard let account = try await decodeAll(rows("""
            SELECT \(unescaped: PostgresRows.accountColumns) FROM accounts WHERE pin = \(pin)
            """), PostgresRows.account).first else { throw .unknownPin(pin) }
        return account
    }

    public func account(id: Int64) async throws(LedgerError) -> Account {
        guard let account = try await decodeAll(rows("""
            SELECT \(unescaped: PostgresRows.accountColumns) FROM accounts WHERE id = \(id)
            """), PostgresRows.account).first else { throw .unknownAccountID(id) }
        return account
    }

    /// One query for the lot: the live-call review reads the account of every call each sweep,
    /// and the protocol's fallback made that one round trip per account.
    public func accounts(ids: [Int64]) async throws(LedgerError) -> [Account] {
        guard !ids.isEmpty else { return [] }
        let found = try await decodeAll(rows("""
            SELECT \(unescaped: PostgresRows.accountColumns) FROM accounts WHERE id = ANY(\(ids))
            """), PostgresRows.account)
        let byID = Dictionary(found.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return ids.compactMap { byID[$0] }
    }

    public func accounts(batch: Int64?, limit: Int, offset: Int) async throws(LedgerError) -> [Account] {
        try await decodeAll(rows("""
            SELECT \(unescaped: PostgresRows.accountColumns) FROM accounts WHERE \(batch)::BIGINT IS NULL OR batch_id = \(batch)
            ORDER BY id LIMIT \(Int64(max(0, limit))) OFFSET \(Int64(max(0, offset)))
            """), PostgresRows.account)
    }

    public func setStatus(pin: String, _ status: AccountStatus, context: ChangeContext) async throws(LedgerError) -> Account {
        try await withSlice(SliceRequest(pin: pin)) { book throws(LedgerError) in try book.setStatus(pin: pin, status, context: context) }.0
    }

    public func activate(pin: String, context: ChangeContext) async throws(LedgerError) -> Account {
        try await withSlice(SliceRequest(pin: pin)) { book throws(LedgerError) in try book.activate(pin: pin, context: context) }.0
    }

    public func setPassword(pin: String, _ password: String, context: ChangeContext) async throws(LedgerError) {
        guard (4...64).contains(password.utf8.count) else { throw .invalid("a password must be 4-64 bytes") }
        let sealed = try secrets.seal(password)
        _ = try await withSlice(SliceRequest(pin: pin)) { book throws(LedgerError) in
            try book.setSecret(pin: pin, sealed: sealed, context: context)
        }
    }

    public func password(pin: String) async throws(LedgerError) -> String {
        let account = try await account(pin: pin)
        guard let sealed = try await decodeAll(rows("SELECT sealed FROM secrets WHERE account_id = \(account.id)"), {
            try Columns($0)("sealed") as Data
        }).first else { throw .storage("no secret stored for PIN \(pin)") }
        return try secrets.open(sealed)
    }

    public func bindANI(pin: String, ani: String, context: ChangeContext) async throws(LedgerError) -> Account {
        try await withSlice(SliceRequest(pin: pin, ani: ani)) { book throws(LedgerError) in
            try book.bindANI(pin: pin, ani: ani, context: context)
        }.0
    }

    public func account(ani: String) async throws(LedgerError) -> Account? {
        try await decodeAll(rows("""
            SELECT \(unescaped: PostgresRows.accountColumns) FROM accounts
            WHERE id = (SELECT account_id FROM account_anis WHERE ani = \(ani))
            """), PostgresRows.account).first
    }

    public func authorise(pin: String, context: ChangeContext) async throws(LedgerError) -> Result<Account, Refusal> {
        try await withSlice(SliceRequest(pin: pin)) { book in book.authorise(pin: pin, context: context) }.0
    }

    public func recharge(pin: String, amount: Money, method: PaymentMethod, reference: String,
                         context: ChangeContext) async throws(LedgerError) -> Movement {
        let (movement, ids) = try await withSlice(SliceRequest(pin: pin)) { book throws(LedgerError) in
            try book.recharge(pin: pin, amount: amount, method: method, reference: reference, context: context)
        }
        return Self.stored(movement, ids: ids)
    }

    public func touchRecharge(pin: String, context: ChangeContext) async throws(LedgerError) -> Account {
        try await withSlice(SliceRequest(pin: pin)) { book throws(LedgerError) in try book.touchRecharge(pin: pin, context: context) }.0
    }

    public func adjust(pin: String, amount: Money, reason: String, context: ChangeContext) async throws(LedgerError) -> Movement {
        let (movement, ids) = try await withSlice(SliceRequest(pin: pin)) { book throws(LedgerError) in
            try book.adjust(pin: pin, amount: amount, reason: reason, context: context)
        }
        return Self.stored(movement, ids: ids)
    }

    public func redeem(voucher code: String, pin: String, context: ChangeContext) async throws(LedgerError) -> Movement {
        let (movement, ids) = try await withSlice(SliceRequest(pin: pin, voucher: code)) { book throws(LedgerError) in
            try book.redeem(voucher: code, pin: pin, context: context)
        }
        return Self.stored(movement, ids: ids)
    }

    public func movements(pin: String) async throws(LedgerError) -> [Movement] {
        let account = try await account(pin: pin)
        return try await decodeAll(rows("SELECT * FROM movements WHERE account_id = \(account.id) ORDER BY id"), PostgresRows.movement)
    }

    public func auditTrail(limit: Int) async throws(LedgerError) -> [AuditEntry] {
        try await decodeAll(rows("SELECT * FROM audit ORDER BY id DESC LIMIT \(Int64(max(0, limit)))"), PostgresRows.audit)
    }

    func decodeAll<T>(_ rows: [PostgresRow], _ decode: (PostgresRow) throws -> T) throws(LedgerError) -> [T] {
        do { return try rows.map(decode) } catch { throw Self.ledgerError(error) }
    }
}
