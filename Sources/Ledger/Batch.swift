public import RatingEngine

/// What `pins generate` asks for.
public struct BatchSpec: Sendable {
    public var count: Int
    public var faceValue: Money
    public var plan: String
    public var activation: ActivationMode
    public var validity: Validity
    public var pinLength: Int
    public var series: String
    public var passwordLength: Int
    public var vouchers: Bool
    public var kind: AccountKind
    public var creditLimit: Int64
    public var maxCalls: Int

    public init(count: Int, faceValue: Money, plan: String = "default", activation: ActivationMode = .firstUse,
                validity: Validity = .days(Validity.defaultDays), pinLength: Int = 12, series: String = "",
                passwordLength: Int = 8, vouchers: Bool = false, kind: AccountKind = .prepaid,
                creditLimit: Int64 = 0, maxCalls: Int = 1) {
        self.count = count
        self.faceValue = faceValue
        self.plan = plan
        self.activation = activation
        self.validity = validity
        self.pinLength = pinLength
        self.series = series
        self.passwordLength = passwordLength
        self.vouchers = vouchers
        self.kind = kind
        self.creditLimit = creditLimit
        self.maxCalls = maxCalls
    }

    /// The expiry a card carries from its issue: a fixed date, or for an account active from
    /// issue its validity counted from then; otherwise validity starts with activation.
    package func expiryAtIssue(_ at: Int64) -> Int64? {
        switch (validity, activation) {
        case (.until(let instant), _): instant
        case (.days, .immediate) where !vouchers: validity.expiry(activatedAt: at)
        case (.days, _): nil
        }
    }

    /// Checks ranges before anything is generated; the message names the option.
    package func validate() throws(LedgerError) {
        guard count >= 1, count <= 10_000_000 else { throw .invalid("count must be 1-10000000, got \(count)") }
        guard faceValue.micros >= 0 else { throw .invalid("value must not be negative") }
        guard (4...18).contains(pinLength) else { throw .invalid("PIN length must be 4-18, got \(pinLength)") }
        guard series.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { throw .invalid("series must be digits, got \(series)") }
        guard (4...32).contains(passwordLength) else { throw .invalid("password length must be 4-32, got \(passwordLength)") }
        guard maxCalls >= 1, maxCalls <= 10_000 else { throw .invalid("max calls must be 1-10000, got \(maxCalls)") }
        guard creditLimit >= 0 else { throw .invalid("credit limit must not be negative") }
        guard !plan.isEmpty else { throw .invalid("plan name must not be empty") }
        if case .days(let days) = validity, !(1...36_500).contains(days) {
            throw .invalid("validity must be 1-36500 days, got \(days)")
        }
        // Random digits must leave room: at most one PIN in 100 of the free space is ever used,
        // so that drawing unused ones stays quick and PINs stay hard to guess.
        let free = pinLength - series.utf8.count
        guard free >= 4 else { throw .invalid("series \(series) leaves fewer than 4 random digits in a \(pinLength)-digit PIN") }
        if free < 18 {
            var space = 1
            for _ in 0..<free { space *= 10 }
            guard count <= space / 100 else {
                throw .invalid("\(count) PINs of \(free) random digits would be guessable; use a longer PIN")
            }
        }
    }
}

public enum BatchStatus: String, Sendable, CaseIterable {
    case enabled, disabled, dropped
}

/// A lot of cards or vouchers generated together.
public struct Batch: Sendable, Equatable {
    public var id: Int64
    public var createdAt: Int64
    public var createdBy: String
    public var count: Int
    public var faceValue: Money
    public var plan: String
    public var vouchers: Bool
    public var status: BatchStatus

    /// Memberwise, for the stores in other modules that read rows back.
    package init(id: Int64, createdAt: Int64, createdBy: String, count: Int, faceValue: Money, plan: String, vouchers: Bool, status: BatchStatus) {
        self.id = id
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.count = count
        self.faceValue = faceValue
        self.plan = plan
        self.vouchers = vouchers
        self.status = status
    }
}

/// One row of a batch's printable export.
public struct PrintableCard: Sendable, Equatable {
    public var pin: String
    public var password: String
    public var value: Money
    public var expiresAt: Int64?

    /// Memberwise, for the stores in other modules.
    package init(pin: String, password: String, value: Money, expiresAt: Int64?) {
        self.pin = pin
        self.password = password
        self.value = value
        self.expiresAt = expiresAt
    }
}

/// A scratch-card code that adds its value to an account once.
public struct Voucher: Sendable, Equatable {
    public var code: String
    public var batchID: Int64
    public var value: Money
    public var status: BatchStatus
    public var redeemedBy: Int64?
    public var redeemedAt: Int64?
    public var expiresAt: Int64?

    /// Memberwise, for the stores in other modules that read rows back.
    package init(code: String, batchID: Int64, value: Money, status: BatchStatus, redeemedBy: Int64?, redeemedAt: Int64?, expiresAt: Int64?) {
        self.code = code
        self.batchID = batchID
        self.value = value
        self.status = status
        self.redeemedBy = redeemedBy
        self.redeemedAt = redeemedAt
        self.expiresAt = expiresAt
    }
}
