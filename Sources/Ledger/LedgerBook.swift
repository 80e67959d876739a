import Foundation
import RatingEngine

/// The whole ledger in memory, and every rule about it, as a value: an operation checks and
/// changes the book and appends the rows it changed to `records`, which the store writes
/// durably before it acknowledges. Stores serialise access; the book does no I/O.
public struct LedgerBook: Sendable {
    /// Index `id - 1`.
    public internal(set) var accounts: [Account] = []
    var idByPin: [String: Int64] = [:]
    var accountByANI: [String: Int64] = [:]
    public internal(set) var reservations: [String: Reservation] = [:]
    /// Open reservations per account: how many, and how many micros they hold.
    var held: [Int64: (count: Int, micros: Int64)] = [:]
    public internal(set) var batches: [Batch] = []
    var batchTerms: [BatchTerms] = []
    var vouchers: [String: Voucher] = [:]
    var nextMovementID: Int64 = 1
    var nextAuditID: Int64 = 1
    public internal(set) var overruns = 0
    public internal(set) var records: [JournalRecord] = []

    public init() {}

    public mutating func drainRecords() -> [JournalRecord] {
        defer { records = [] }
        return records
    }

    // MARK: Loading (the store replays what it stored)

    public mutating func load(_ account: Account) {
        precondition(account.id == Int64(accounts.count + 1), "accounts load in id order")
        accounts.append(account)
        idByPin[account.pin] = account.id
        for ani in account.anis { accountByANI[ani] = account.id }
    }

    public mutating func load(_ batch: Batch, terms: BatchTerms) {
        precondition(batch.id == Int64(batches.count + 1), "batches load in id order")
        batches.append(batch)
        batchTerms.append(terms)
    }

    public mutating func load(_ voucher: Voucher) { vouchers[voucher.code] = voucher }

    public mutating func load(_ reservation: Reservation) {
        reservations[reservation.key] = reservation
        if reservation.state == .open { hold(reservation.accountID, count: 1, micros: reservation.amount) }
        if reservation.isOverrun { overruns += 1 }
    }

    public mutating func setCounters(nextMovementID: Int64, nextAuditID: Int64) {
        self.nextMovementID = nextMovementID
        self.nextAuditID = nextAuditID
    }

    // MARK: Lookups

    public func account(pin: String) throws(LedgerError) -> Account {
        guard let id = idByPin[pin] else { throw .unknownPin(pin) }
        return accounts[Int(id - 1)]
    }

    public func account(ani: String) -> Account? {
        accountByANI[ani].map { accounts[Int($0 - 1)] }
    }

    public func batch(_ id: Int64) throws(LedgerError) -> Batch {
        guard id >= 1, id <= Int64(batches.count) else { throw .unknownBatch(id) }
        return batches[Int(id - 1)]
    }

    /// Whether a code is taken by any account or voucher ever issued.
    public func isIssued(_ code: String) -> Bool { idByPin[code] != nil || vouchers[code] != nil }

    public func heldFor(_ accountID: Int64) -> (count: Int, micros: Int64) { held[accountID] ?? (0, 0) }

    mutating func hold(_ accountID: Int64, count: Int, micros: Int64) {
        let current = held[accountID] ?? (0, 0)
        let next = (current.count + count, current.micros + micros)
        held[accountID] = next.0 == 0 ? nil : next
    }

    mutating func update(_ account: Account) {
        accounts[Int(account.id - 1)] = account
        records.append(.account(account))
    }

    mutating func audit(_ context: ChangeContext, _ entity: String, _ entityID: String, _ action: String,
                        old: String, new: String) {
        records.append(.audit(AuditEntry(id: nextAuditID, at: context.at, actor: context.actor, address: context.address,
                                         entity: entity, entityID: entityID, action: action, oldValue: old, newValue: new)))
        nextAuditID += 1
    }

    mutating func move(_ account: inout Account, _ amount: Int64, _ kind: MovementKind, method: PaymentMethod? = nil,
                       reference: String, context: ChangeContext) throws(LedgerError) -> Movement {
        let (balance, overflow) = account.balance.addingReportingOverflow(amount)
        guard !overflow else { throw .amountOverflow }
        account.balance = balance
        let movement = Movement(id: nextMovementID, accountID: account.id, amount: amount, kind: kind, method: method,
                                reference: reference, actor: context.actor, at: context.at)
        nextMovementID += 1
        records.append(.movement(movement))
        return movement
    }
}
