import Foundation
import RatingEngine

/// The whole ledger in memory, and every rule about it, as a value: an operation checks and
/// changes the book and appends the rows it changed to `records`, which the store writes
/// durably before it acknowledges. Stores serialise access; the book does no I/O.
public struct LedgerBook: Sendable {
    /// Index `id - firstAccountID`: the embedded store holds every account, a shared store's
    /// transaction holds a slice of them (see `init(firstAccountID:firstBatchID:)`).
    public internal(set) var accounts: [Account] = []
    let firstAccountID: Int64
    let firstBatchID: Int64
    /// Accounts by PIN: each slot holds an account's place in `accounts`, whose PIN it is checked against.
    var pins = HashSlots()
    var accountByANI: [String: Int64] = [:]
    /// Caller IDs bound to accounts outside the slice, with their PINs.
    var foreignANIs: [String: String] = [:]
    public internal(set) var reservations = ReservationTable()
    /// Open reservations by expiry, so that a sweep touches only what is due rather than every
    /// reservation ever made (under the lock every request needs). An entry whose reservation has
    /// closed, or moved its expiry, is dropped when it comes up.
    var expiries = ExpiryQueue<String>()
    /// Open reservations per account, by account index: how many, and how many micros they
    /// hold. An array beside `accounts` rather than a dictionary: no hashing, and no table of a
    /// million buckets touched at random (each first touch a page fault on a fresh server).
    var held: [(count: Int, micros: Int64)] = []
    public internal(set) var batches: [Batch] = []
    var batchTerms: [BatchTerms] = []
    var vouchers: [String: Voucher] = [:]
    var nextMovementID: Int64 = 1
    var nextReservationID: Int64 = 1
    var nextAuditID: Int64 = 1
    public internal(set) var overruns = 0
    public internal(set) var records: [JournalRecord] = []

    public init() {
        firstAccountID = 1
        firstBatchID = 1
    }

    /// A book that holds only what one transaction of a shared store locked: accounts (and new
    /// ones) are numbered from `firstAccountID`, batches from `firstBatchID`.
    public init(firstAccountID: Int64, firstBatchID: Int64) {
        self.firstAccountID = firstAccountID
        self.firstBatchID = firstBatchID
    }

    var nextAccountID: Int64 { firstAccountID + Int64(accounts.count) }
    var nextBatchID: Int64 { firstBatchID + Int64(batches.count) }

    func accountIndex(_ id: Int64) -> Int { Int(id - firstAccountID) }
    func batchIndex(_ id: Int64) -> Int { Int(id - firstBatchID) }

    public mutating func drainRecords() -> [JournalRecord] {
        defer { records = [] }
        return records
    }

    /// Forgets the rows a store has copied out of `records`, keeping the buffer: a store that
    /// drained a fresh array per operation allocated one for every Access-Request.
    public mutating func forgetRecords() { records.removeAll(keepingCapacity: true) }

    // MARK: Loading (the store replays what it stored)

    public mutating func load(_ account: Account) {
        precondition(account.id == nextAccountID, "accounts load in id order")
        accounts.append(account)
        _ = filePin(account.pin, offset: accounts.count - 1)
        for ani in account.anis { accountByANI[ani] = account.id }
    }

    public mutating func load(_ batch: Batch, terms: BatchTerms) {
        precondition(batch.id == nextBatchID, "batches load in id order")
        batches.append(batch)
        batchTerms.append(terms)
    }

    public mutating func load(_ voucher: Voucher) { vouchers[voucher.code] = voucher }

    /// Records that `ani` belongs to the account `pin`, which this slice does not hold.
    public mutating func loadForeignANI(_ ani: String, pin: String) { foreignANIs[ani] = pin }

    /// Makes room for `count` reservations up front. A table of hundreds of thousands of
    /// reservations that grows rehashes every one of them at once, under the lock every request
    /// takes: a stall of a few hundred milliseconds, seen in the benchmark's latency phase.
    /// Fills `held` for every loaded account too, so that the first reservations do not.
    public mutating func reserveCapacity(reservations count: Int) {
        reservations.reserveCapacity(count)
        growHeld(to: accounts.count)
    }

    private mutating func growHeld(to count: Int) {
        if held.count < count { held += repeatElement((count: 0, micros: Int64(0)), count: count - held.count) }
    }

    /// A reservation closed longer ago than the book keeps rows whole, loaded settled.
    public mutating func loadSettled(id: Int64, key: String, closedAt: Int64, isOverrun: Bool) {
        reservations.saveSettled(id: id, key: key, closedAt: closedAt)
        if isOverrun { overruns += 1 }
    }

    public mutating func load(_ reservation: Reservation) {
        reservations.save(reservation)
        if reservation.state == .open {
            hold(reservation.accountID, count: 1, micros: reservation.amount)
            expiries.insert(Expiry(at: reservation.expiresAt, key: reservation.key))
        }
        if reservation.isOverrun { overruns += 1 }
    }

    public mutating func setCounters(nextMovementID: Int64, nextAuditID: Int64, nextReservationID: Int64) {
        self.nextMovementID = nextMovementID
        self.nextAuditID = nextAuditID
        self.nextReservationID = nextReservationID
    }

    // MARK: Lookups

    public func account(pin: String) throws(LedgerError) -> Account {
        accounts[accountIndex(try accountID(pin: pin))]
    }

    /// The id alone, without copying the account (its strings and ANI list) out of the book.
    func accountID(pin: String) throws(LedgerError) -> Int64 {
        guard let id = id(ofPin: pin) else { throw .unknownPin(pin) }
        return id
    }

    func id(ofPin pin: String) -> Int64? {
        probe(pin: pin).value.map { firstAccountID + Int64($0) }
    }

    private func probe(pin: String) -> HashSlots.Probe {
        pins.probe(pin.hashValue) { accounts[$0].pin == pin }
    }

    /// Files the account at `offset` under its PIN; false, changing nothing, if the PIN is taken.
    mutating func filePin(_ pin: String, offset: Int) -> Bool {
        let probe = probe(pin: pin)
        guard probe.value == nil else { return false }
        pins.insert(offset, at: probe)
        return true
    }

    public func account(id: Int64) throws(LedgerError) -> Account {
        guard id >= firstAccountID, accountIndex(id) < accounts.count else { throw .unknownAccountID(id) }
        return accounts[accountIndex(id)]
    }

    public func account(ani: String) -> Account? {
        accountByANI[ani].map { accounts[accountIndex($0)] }
    }

    public func batch(_ id: Int64) throws(LedgerError) -> Batch {
        guard id >= firstBatchID, id < nextBatchID else { throw .unknownBatch(id) }
        return batches[batchIndex(id)]
    }

    /// Whether a code is taken by any account or voucher ever issued.
    public func isIssued(_ code: String) -> Bool { id(ofPin: code) != nil || vouchers[code] != nil }

    public func heldFor(_ accountID: Int64) -> (count: Int, micros: Int64) {
        let index = accountIndex(accountID)
        return held.indices.contains(index) ? held[index] : (0, 0)
    }

    mutating func hold(_ accountID: Int64, count: Int, micros: Int64) {
        let index = accountIndex(accountID)
        if index >= held.count { growHeld(to: max(index + 1, accounts.count)) }
        held[index].count += count
        held[index].micros += micros
    }

    mutating func update(_ account: Account) {
        accounts[accountIndex(account.id)] = account
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
        let movement = newMovement(account.id, amount, kind, method: method, reference: reference, context: context)
        records.append(.movement(movement))
        return movement
    }

    /// The next movement, numbered but not yet recorded.
    mutating func newMovement(_ accountID: Int64, _ amount: Int64, _ kind: MovementKind, method: PaymentMethod? = nil,
                              reference: String, context: ChangeContext) -> Movement {
        defer { nextMovementID += 1 }
        return Movement(id: nextMovementID, accountID: accountID, amount: amount, kind: kind, method: method,
                        reference: reference, actor: context.actor, at: context.at)
    }
}
