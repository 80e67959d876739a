public import RatingEngine

public enum AccountKind: String, Sendable, CaseIterable {
    case prepaid, postpaid
}

public enum AccountStatus: String, Sendable, CaseIterable {
    case inactive, active, disabled, dropped
}

/// When a card's validity starts, as prepaid operators know it.
public enum ActivationMode: String, Sendable, CaseIterable {
    /// Created inactive; the first successful authorisation activates it.
    case firstUse = "first-use"
    /// Created inactive; activated by hand.
    case manual
    /// Active from creation.
    case immediate
}

/// How long an account stays usable once active.
public enum Validity: Sendable, Equatable {
    case days(Int)
    /// A fixed instant (Unix seconds), whatever the activation date.
    case until(Int64)

    public static let defaultDays = 180

    func expiry(activatedAt: Int64) -> Int64 {
        switch self {
        case .days(let days): activatedAt + Int64(days) * 86_400
        case .until(let instant): instant
        }
    }
}

/// One account: a prepaid card or a postpaid line. Amounts are micros of `currency`.
/// The secret is not here: it stays sealed in the store and is opened only on request.
public struct Account: Sendable, Equatable {
    public var id: Int64
    public var pin: String
    public var kind: AccountKind
    public var currency: Currency
    public var balance: Int64
    /// How far below zero a postpaid account may go (0 for prepaid).
    public var creditLimit: Int64
    public var plan: String
    public var status: AccountStatus
    public var maxCalls: Int
    public var batchID: Int64?
    public var activation: ActivationMode
    public var validity: Validity
    public var createdAt: Int64
    public var activatedAt: Int64?
    public var expiresAt: Int64?
    public var lastRechargeAt: Int64?
    /// Caller-ID numbers bound to the account for PIN-less dialling.
    public var anis: [String]

    public var balanceMoney: Money { Money(micros: balance, currency: currency) }

    /// Where enabling a disabled account returns it: active once it was ever activated.
    var statusWhenEnabled: AccountStatus { activatedAt == nil ? .inactive : .active }

    /// Why the account may not place a call at `now`, if it may not.
    public func refusal(at now: Int64) -> Refusal? {
        switch status {
        case .dropped: return .dropped
        case .disabled: return .disabled
        case .inactive where activation != .firstUse: return .inactive
        case .inactive, .active:
            if let expiresAt, expiresAt <= now { return .expired }
            return nil
        }
    }

    /// Memberwise, for the stores in other modules that read rows back.
    package init(id: Int64, pin: String, kind: AccountKind, currency: Currency, balance: Int64, creditLimit: Int64, plan: String, status: AccountStatus, maxCalls: Int, batchID: Int64?, activation: ActivationMode, validity: Validity, createdAt: Int64, activatedAt: Int64?, expiresAt: Int64?, lastRechargeAt: Int64?, anis: [String]) {
        self.id = id
        self.pin = pin
        self.kind = kind
        self.currency = currency
        self.balance = balance
        self.creditLimit = creditLimit
        self.plan = plan
        self.status = status
        self.maxCalls = maxCalls
        self.batchID = batchID
        self.activation = activation
        self.validity = validity
        self.createdAt = createdAt
        self.activatedAt = activatedAt
        self.expiresAt = expiresAt
        self.lastRechargeAt = lastRechargeAt
        self.anis = anis
    }
}

/// Why an authorisation or a reservation was refused; the RADIUS server words the reply from it.
public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownAccount
    case inactive
    case disabled
    case dropped
    case expired
    case tooManyCalls(limit: Int)
    case insufficientFunds(available: Int64)

    public var description: String {
        switch self {
        case .unknownAccount: "unknown account"
        case .inactive: "account is not activated"
        case .disabled: "account is disabled"
        case .dropped: "account is dropped"
        case .expired: "account has expired"
        case .tooManyCalls(let limit): "account already has \(limit) call(s) in progress"
        case .insufficientFunds(let available): "insufficient funds (available \(Money.format(micros: available, minimumDecimals: 2)))"
        }
    }
}
