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
