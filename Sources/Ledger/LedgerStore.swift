public import RatingEngine

/// The ledger's contract. Every store (embedded SQLite, shared PostgreSQL) implements it with
/// the same behaviour, checked by one test suite. An operation that returns has been made
/// durable; one that is retried with the same key changes nothing and returns the first result.
public protocol LedgerStore: Sendable {
    // Accounts and batches.
    func generate(_ spec: BatchSpec, context: ChangeContext,
                  progress: (@Sendable (Int) -> Void)?) async throws(LedgerError) -> (Batch, [PrintableCard])
    func batches() async throws(LedgerError) -> [Batch]
    func batch(_ id: Int64) async throws(LedgerError) -> Batch
    func export(batch id: Int64) async throws(LedgerError) -> [PrintableCard]
    func setStatus(batch id: Int64, _ status: BatchStatus, context: ChangeContext) async throws(LedgerError) -> Int
    func account(pin: String) async throws(LedgerError) -> Account
    /// The account a reservation belongs to (`Reservation.accountID`).
    func account(id: Int64) async throws(LedgerError) -> Account
    func accounts(batch: Int64?, limit: Int, offset: Int) async throws(LedgerError) -> [Account]
    /// The accounts among `ids` that exist, in the order given: many at the cost of one read.
    func accounts(ids: [Int64]) async throws(LedgerError) -> [Account]
    func setStatus(pin: String, _ status: AccountStatus, context: ChangeContext) async throws(LedgerError) -> Account
    /// Activates a `manual` (or not yet used `first-use`) account by hand.
    func activate(pin: String, context: ChangeContext) async throws(LedgerError) -> Account
    func setPassword(pin: String, _ password: String, context: ChangeContext) async throws(LedgerError)
    /// The clear secret, for CHAP and SIP digest.
    func password(pin: String) async throws(LedgerError) -> String
    /// Binds a caller ID to an account for PIN-less dialling; a caller ID belongs to one account.
    func bindANI(pin: String, ani: String, context: ChangeContext) async throws(LedgerError) -> Account
    func account(ani: String) async throws(LedgerError) -> Account?
    /// Checks that `pin` may call now; a `first-use` account is activated by its first success.
    func authorise(pin: String, context: ChangeContext) async throws(LedgerError) -> Result<Account, Refusal>
    /// `authorise(pin:context:)` for a caller who proves the secret: `matches` is shown the
    /// account's clear secret first, and nil (nothing authorised, nothing activated) means it
    /// said no. Throws `unknownPin` for a PIN with no account.
    func authorise(pin: String, context: ChangeContext, ifSecret matches: (String) -> Bool) async throws(LedgerError)
        -> Result<Account, Refusal>?

    // Money movements.
    func recharge(pin: String, amount: Money, method: PaymentMethod, reference: String,
                  context: ChangeContext) async throws(LedgerError) -> Movement
    /// Refreshes the last-recharge date without moving money.
    func touchRecharge(pin: String, context: ChangeContext) async throws(LedgerError) -> Account
    func adjust(pin: String, amount: Money, reason: String, context: ChangeContext) async throws(LedgerError) -> Movement
    func redeem(voucher code: String, pin: String, context: ChangeContext) async throws(LedgerError) -> Movement
    func movements(pin: String) async throws(LedgerError) -> [Movement]

    // Reservations, for calls in progress; all idempotent by key.
    func reserve(_ request: ReservationRequest) async throws(LedgerError) -> ReserveOutcome
    func commit(key: String, cost: Int64, details: String, at: Int64) async throws(LedgerError) -> Reservation
    func release(key: String, at: Int64) async throws(LedgerError) -> Reservation
    /// Holds `amount` more and moves the expiry to `expiresAt` when that is later (a longer grant).
    func extend(key: String, by amount: Int64, expiresAt: Int64, at: Int64) async throws(LedgerError) -> ReserveOutcome
    func reservation(key: String) async throws(LedgerError) -> Reservation
    func openReservations() async throws(LedgerError) -> [Reservation]
    /// Expires open reservations whose time is up; returns how many.
    func releaseExpired(now: Int64) async throws(LedgerError) -> Int
    /// Releases every reservation opened through `nas` before `before` (RADIUS Accounting-On/Off).
    func releaseAll(nas: String, openedBefore before: Int64, at: Int64) async throws(LedgerError) -> Int

    func auditTrail(limit: Int) async throws(LedgerError) -> [AuditEntry]
    /// True when every operation is decided in memory and never suspends before it is queued
    /// for disk, so a caller may run many of them in one task under a `DeferredDurability`.
    var decidesInMemory: Bool { get }
    /// True once a write has failed in a way that makes the store refuse every later operation
    /// until it is reopened (the embedded store: its book is then ahead of its disk). A store
    /// whose operations fail one by one, as a database round trip does, never says so.
    var refusesEverything: Bool { get }
    /// Verifies every invariant against what is stored.
    func check() async throws(LedgerError) -> LedgerReport
    func close() async
}

extension LedgerStore {
    /// In two steps, for a store that keeps secrets apart from accounts.
    public func authorise(pin: String, context: ChangeContext, ifSecret matches: (String) -> Bool) async throws(LedgerError)
        -> Result<Account, Refusal>? {
        guard matches(try await password(pin: pin)) else { return nil }
        return try await authorise(pin: pin, context: context)
    }

    public var decidesInMemory: Bool { false }
    public var refusesEverything: Bool { false }

    public func accounts(ids: [Int64]) async throws(LedgerError) -> [Account] {
        var found: [Account] = []
        for id in ids {
            do { found.append(try await account(id: id)) } catch .unknownAccountID { continue }
        }
        return found
    }
}

/// What `ledger check` prints.
public struct LedgerReport: Sendable, Equatable {
    public var accounts: Int
    public var byStatus: [AccountStatus: Int]
    public var movements: Int
    public var openReservations: Int
    public var heldMicros: Int64
    public var overruns: Int
    /// Per currency, micros.
    public var totalBalance: [String: Int64]
    /// Human-readable invariant violations; empty when the ledger is sound.
    public var problems: [String]

    /// Memberwise, for the stores in other modules.
    package init(accounts: Int, byStatus: [AccountStatus: Int], movements: Int, openReservations: Int, heldMicros: Int64, overruns: Int, totalBalance: [String: Int64], problems: [String]) {
        self.accounts = accounts
        self.byStatus = byStatus
        self.movements = movements
        self.openReservations = openReservations
        self.heldMicros = heldMicros
        self.overruns = overruns
        self.totalBalance = totalBalance
        self.problems = problems
    }
}
