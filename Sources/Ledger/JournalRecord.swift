public import Foundation

/// A row a book operation changed, in decision order; the store makes them durable.
/// Accounts, reservations, batches and vouchers are whole-row upserts, so a group of records
/// may keep only the last state of each.
public indirect enum JournalRecord: Sendable {
    case account(Account)
    case secret(accountID: Int64, sealed: Data)
    case movement(Movement)
    case reservation(Reservation)
    case batch(Batch, BatchTerms)
    case voucher(Voucher)
    case audit(AuditEntry)
    case issued(IssuedRows)
}

/// A batch's new accounts, their sealed secrets and their opening movements as one record of
/// columns: a million cards are one record to append and group, not three million boxed ones.
/// The accounts are new, so a store writes them before any later record of the same group.
public struct IssuedRows: Sendable {
    public var accounts: [Account] = []
    /// Seals the secret of `accounts[i]` as its `i`th password; still at work while the
    /// accounts are written.
    public let secrets: SealingJob
    public var movements: [Movement] = []

    init(capacity: Int, secrets: SealingJob) {
        self.secrets = secrets
        accounts.reserveCapacity(capacity)
        movements.reserveCapacity(capacity)
    }
}

/// The issuing terms a batch keeps for its printable export and its accounts.
public struct BatchTerms: Sendable, Equatable {
    public var activation: ActivationMode
    public var validity: Validity
    public var pinLength: Int
    public var series: String

    /// Memberwise, for the stores in other modules that read rows back.
    package init(activation: ActivationMode, validity: Validity, pinLength: Int, series: String) {
        self.activation = activation
        self.validity = validity
        self.pinLength = pinLength
        self.series = series
    }
}
