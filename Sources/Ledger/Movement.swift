/// One change of a balance. Balances change only through movements: for every account,
/// balance = sum of its movements.
public struct Movement: Sendable, Equatable {
    public var id: Int64
    public var accountID: Int64
    /// Signed micros: credits positive, debits negative.
    public var amount: Int64
    public var kind: MovementKind
    public var method: PaymentMethod?
    /// Payment reference, voucher code, reservation key or the reason of an adjustment.
    public var reference: String
    public var actor: String
    public var at: Int64

    /// Memberwise, for the stores in other modules that read rows back.
    package init(id: Int64, accountID: Int64, amount: Int64, kind: MovementKind, method: PaymentMethod?, reference: String, actor: String, at: Int64) {
        self.id = id
        self.accountID = accountID
        self.amount = amount
        self.kind = kind
        self.method = method
        self.reference = reference
        self.actor = actor
        self.at = at
    }
}

public enum MovementKind: String, Sendable, CaseIterable {
    /// The face value a card is issued with.
    case issue
    case recharge
    case voucher
    case adjustment
    /// A call's cost, committed from its reservation.
    case call
}

public enum PaymentMethod: String, Sendable, CaseIterable {
    case cash, card, bank, voucher
}

/// Who changes something, and from where: every change is written to the audit trail with it.
public struct ChangeContext: Sendable, Equatable {
    public var actor: String
    public var address: String
    public var at: Int64

    public init(actor: String, address: String = "", at: Int64) {
        self.actor = actor
        self.address = address
        self.at = at
    }
}

/// One line of the append-only audit trail.
public struct AuditEntry: Sendable, Equatable {
    public var id: Int64
    public var at: Int64
    public var actor: String
    public var address: String
    /// `account`, `batch`, `voucher` or `price`.
    public var entity: String
    public var entityID: String
    public var action: String
    public var oldValue: String
    public var newValue: String

    /// Memberwise, for the stores in other modules that read rows back.
    package init(id: Int64, at: Int64, actor: String, address: String, entity: String, entityID: String, action: String, oldValue: String, newValue: String) {
        self.id = id
        self.at = at
        self.actor = actor
        self.address = address
        self.entity = entity
        self.entityID = entityID
        self.action = action
        self.oldValue = oldValue
        self.newValue = newValue
    }
}
