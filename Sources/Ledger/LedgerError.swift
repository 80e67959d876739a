/// Everything a ledger operation can refuse to do; each says which account, key or batch it is about.
public enum LedgerError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownPin(String)
    case unknownAccountID(Int64)
    case unknownReservation(String)
    case unknownBatch(Int64)
    case unknownVoucher(String)
    case voucherUsed(String)
    case currencyMismatch(expected: String, got: String)
    case invalid(String)
    case refused(pin: String, Refusal)
    case reservationClosed(key: String, state: ReservationState)
    case amountOverflow
    /// The book keeps only the number of this long-closed reservation (`ReservationTable`); the
    /// embedded store reads the row back and retries, so callers of a store never see this.
    case reservationOnDisk(key: String, id: Int64)
    /// The store could not make an operation durable; nothing after it was acknowledged.
    case storage(String)

    public var description: String {
        switch self {
        case .unknownPin(let pin): "unknown PIN \(pin)"
        case .unknownAccountID(let id): "unknown account id \(id)"
        case .unknownReservation(let key): "unknown reservation \(key)"
        case .unknownBatch(let id): "unknown batch \(id)"
        case .unknownVoucher(let code): "unknown voucher \(code)"
        case .voucherUsed(let code): "voucher \(code) is already used or not enabled"
        case .currencyMismatch(let expected, let got): "currency mismatch: account is in \(expected), amount in \(got)"
        case .invalid(let message): message
        case .refused(let pin, let refusal): "PIN \(pin): \(refusal)"
        case .reservationClosed(let key, let state): "reservation \(key) is already \(state.rawValue)"
        case .amountOverflow: "amount out of range"
        case .reservationOnDisk(let key, let id): "reservation \(key) (number \(id)) is kept on disk only"
        case .storage(let message): "storage failure: \(message)"
        }
    }
}
