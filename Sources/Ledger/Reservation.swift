/// Money held for a call in progress. A call in progress *is* its open reservation: it carries
/// what the live-call view shows.
public struct Reservation: Sendable, Equatable {
    /// The store's number for the row, in the order reservations were made. The embedded store
    /// files rows under it: a key index would put each new reservation on a page of its own at
    /// random, one page written to the log per reservation.
    public var id: Int64
    public var key: String
    public var accountID: Int64
    /// Micros held while open.
    public var amount: Int64
    public var nas: String
    public var number: String
    public var destination: String
    public var openedAt: Int64
    public var expiresAt: Int64
    public var state: ReservationState
    /// Micros debited by the commit.
    public var finalCost: Int64?
    public var closedAt: Int64?
    public var details: String
    /// The movement the commit wrote.
    public var movementID: Int64?

    /// A commit above what was held still debits in full; it is counted.
    public var isOverrun: Bool { Self.isOverrun(finalCost: finalCost, amount: amount) }

    /// The same rule for a row read without the rest of the reservation (one loaded settled).
    static func isOverrun(finalCost: Int64?, amount: Int64) -> Bool { (finalCost ?? 0) > amount }

    /// Memberwise, for the stores in other modules that read rows back.
    package init(id: Int64, key: String, accountID: Int64, amount: Int64, nas: String, number: String, destination: String, openedAt: Int64, expiresAt: Int64, state: ReservationState, finalCost: Int64?, closedAt: Int64?, details: String, movementID: Int64?) {
        self.id = id
        self.key = key
        self.accountID = accountID
        self.amount = amount
        self.nas = nas
        self.number = number
        self.destination = destination
        self.openedAt = openedAt
        self.expiresAt = expiresAt
        self.state = state
        self.finalCost = finalCost
        self.closedAt = closedAt
        self.details = details
        self.movementID = movementID
    }
}

public enum ReservationState: String, Sendable, CaseIterable {
    case open, committed, released, expired
}

public struct ReservationRequest: Sendable {
    public var key: String
    public var pin: String
    public var amount: Int64
    public var expiresAt: Int64
    public var nas: String
    public var number: String
    public var destination: String
    public var at: Int64
    /// The account the PIN names, when the caller has just authorised it: a store that keeps
    /// accounts by number then skips looking the PIN up among a million again. It must name
    /// the PIN's own account (checked; a mismatch falls back to the PIN).
    public var accountID: Int64?

    public init(key: String, pin: String, amount: Int64, expiresAt: Int64, nas: String = "",
                number: String = "", destination: String = "", at: Int64, accountID: Int64? = nil) {
        self.key = key
        self.pin = pin
        self.amount = amount
        self.expiresAt = expiresAt
        self.nas = nas
        self.number = number
        self.destination = destination
        self.at = at
        self.accountID = accountID
    }
}

public enum ReserveOutcome: Sendable, Equatable {
    case reserved(Reservation)
    case refused(Refusal)
}
