/// An amount of money in one currency, held as an integer count of micro-units
/// (1 unit = 1,000,000 micros) so that every sum, rate and rounding is exact.
///
/// Floating point never touches an amount: parsing "0.0125" reads digits into an integer.
/// Arithmetic is checked; an overflow is a `MoneyError`, never a wrap or a trap.
public struct Money: Hashable, Sendable, CustomStringConvertible {
    public static let microsPerUnit: Int64 = 1_000_000
    /// Fractional digits a `Money` can hold.
    public static let maxDecimals = 6

    public let micros: Int64
    public let currency: Currency

    public init(micros: Int64, currency: Currency) {
        self.micros = micros
        self.currency = currency
    }

    public static func zero(_ currency: Currency) -> Money {
        Money(micros: 0, currency: currency)
    }

    /// Parses a plain decimal such as `12`, `-0.5` or `0.0125` (at most 6 fractional digits).
    public init(parsing text: some StringProtocol, currency: Currency) throws(MoneyError) {
        self.init(micros: try Money.parseMicros(text), currency: currency)
    }

    /// Reads a decimal string into micros without floating point.
    /// Accepts an optional sign, at least one integer digit, and an optional `.` followed by 1-6 digits.
    public static func parseMicros(_ text: some StringProtocol) throws(MoneyError) -> Int64 {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 40 else { throw .invalidAmount(String(text)) }
        var index = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            negative = bytes[0] == UInt8(ascii: "-")
            index = 1
        }
        var units: Int64 = 0
        var integerDigits = 0
        while index < bytes.count, let digit = Money.digitValue(bytes[index]) {
            units = try Money.checked(units.multipliedReportingOverflow(by: 10))
            units = try Money.checked(units.addingReportingOverflow(digit))
            integerDigits += 1
            index += 1
        }
        guard integerDigits > 0 else { throw .invalidAmount(String(text)) }
        var fraction: Int64 = 0
        var fractionDigits = 0
        if index < bytes.count {
            guard bytes[index] == UInt8(ascii: ".") else { throw .invalidAmount(String(text)) }
            index += 1
            while index < bytes.count, let digit = Money.digitValue(bytes[index]) {
                fractionDigits += 1
                guard fractionDigits <= maxDecimals else { throw .tooManyDecimals(String(text)) }
                fraction = fraction * 10 + digit
                index += 1
            }
            guard fractionDigits > 0, index == bytes.count else { throw .invalidAmount(String(text)) }
        }
        for _ in fractionDigits..<maxDecimals { fraction *= 10 }
        let scaled = try Money.checked(units.multipliedReportingOverflow(by: microsPerUnit))
        let magnitude = try Money.checked(scaled.addingReportingOverflow(fraction))
        return negative ? -magnitude : magnitude
    }

    /// The amount as a decimal string with exactly `decimals` fractional digits.
    /// Digits beyond `decimals` must be zero (round first); `precondition` guards that.
    public func formatted(decimals: Int) -> String {
        Money.format(micros: micros, decimals: decimals)
    }

    /// The shortest exact decimal for `micros`, with at least `minimumDecimals` fractional digits.
    public static func format(micros: Int64, minimumDecimals: Int) -> String {
        var decimals = maxDecimals
        var divisor: Int64 = 1
        while decimals > minimumDecimals, micros % (divisor * 10) == 0 {
            divisor *= 10
            decimals -= 1
        }
        return format(micros: micros, decimals: decimals)
    }

    static func format(micros: Int64, decimals: Int) -> String {
        precondition((0...maxDecimals).contains(decimals), "decimals out of range")
        let magnitude = micros.magnitude
        let units = magnitude / UInt64(microsPerUnit)
        let fraction = magnitude % UInt64(microsPerUnit)
        var text = micros < 0 ? "-" : ""
        text += String(units)
        guard decimals > 0 else {
            precondition(fraction == 0, "format would drop digits; round first")
            return text
        }
        var digits = String(fraction)
        digits = String(repeating: "0", count: maxDecimals - digits.count) + digits
        let kept = digits.prefix(decimals)
        precondition(digits.dropFirst(decimals).allSatisfy { $0 == "0" }, "format would drop digits; round first")
        return text + "." + kept
    }

    public var description: String {
        Money.format(micros: micros, minimumDecimals: 2) + " " + currency.code
    }

    public func adding(_ other: Money) throws(MoneyError) -> Money {
        try sameCurrency(other)
        return Money(micros: try Money.checked(micros.addingReportingOverflow(other.micros)), currency: currency)
    }

    public func subtracting(_ other: Money) throws(MoneyError) -> Money {
        try sameCurrency(other)
        return Money(micros: try Money.checked(micros.subtractingReportingOverflow(other.micros)), currency: currency)
    }

    public func multiplied(by factor: Int64) throws(MoneyError) -> Money {
        Money(micros: try Money.checked(micros.multipliedReportingOverflow(by: factor)), currency: currency)
    }

    public func negated() throws(MoneyError) -> Money {
        Money(micros: try Money.checked(Int64(0).subtractingReportingOverflow(micros)), currency: currency)
    }

    public func rounded(decimals: Int, mode: RoundingMode) throws(MoneyError) -> Money {
        Money(micros: try mode.round(micros: micros, decimals: decimals), currency: currency)
    }

    private func sameCurrency(_ other: Money) throws(MoneyError) {
        guard currency == other.currency else { throw .currencyMismatch(currency, other.currency) }
    }

    static func checked(_ result: (partialValue: Int64, overflow: Bool)) throws(MoneyError) -> Int64 {
        guard !result.overflow else { throw .overflow }
        return result.partialValue
    }

    private static func digitValue(_ byte: UInt8) -> Int64? {
        byte >= 48 && byte <= 57 ? Int64(byte - 48) : nil
    }
}

/// How an amount is brought to fewer decimals. Names and meanings follow `java.math.RoundingMode`,
/// which operators' other tools use: `up` and `down` are away from and towards zero.
public enum RoundingMode: String, Sendable, CaseIterable {
    case up
    case halfUp = "half-up"
    case down
    case halfEven = "half-even"

    /// Rounds `micros` to a multiple of 10^(6 - decimals).
    public func round(micros: Int64, decimals: Int) throws(MoneyError) -> Int64 {
        guard (0...Money.maxDecimals).contains(decimals) else { throw .invalidDecimals(decimals) }
        var unit: Int64 = 1
        for _ in decimals..<Money.maxDecimals { unit *= 10 }
        let quotient = micros / unit
        let remainder = micros % unit
        guard remainder != 0 else { return micros }
        let awayFromZero: Bool
        switch self {
        case .up: awayFromZero = true
        case .down: awayFromZero = false
        case .halfUp: awayFromZero = remainder.magnitude * 2 >= unit.magnitude
        case .halfEven:
            let twice = remainder.magnitude * 2
            awayFromZero = twice > unit.magnitude || (twice == unit.magnitude && quotient % 2 != 0)
        }
        let step: Int64 = awayFromZero ? (micros < 0 ? -1 : 1) : 0
        let roundedQuotient = try Money.checked(quotient.addingReportingOverflow(step))
        return try Money.checked(roundedQuotient.multipliedReportingOverflow(by: unit))
    }
}

/// An ISO 4217 style currency code: three ASCII capital letters, kept inline so `Money` stays trivial.
public struct Currency: Hashable, Sendable, CustomStringConvertible {
    private let packed: UInt32

    public init(_ code: some StringProtocol) throws(MoneyError) {
        let bytes = Array(code.utf8)
        guard bytes.count == 3, bytes.allSatisfy({ $0 >= 65 && $0 <= 90 }) else {
            throw .invalidCurrency(String(code))
        }
        packed = UInt32(bytes[0]) << 16 | UInt32(bytes[1]) << 8 | UInt32(bytes[2])
    }

    /// Built from a tuple, not an array: three bytes fit in the string itself, so writing a
    /// million rows' currency allocates nothing.
    public var code: String {
        withUnsafeBytes(of: (UInt8(truncatingIfNeeded: packed >> 16), UInt8(truncatingIfNeeded: packed >> 8),
                             UInt8(truncatingIfNeeded: packed))) { String(decoding: $0, as: UTF8.self) }
    }

    public var description: String { code }
}

/// Why an amount could not be read or computed. The message names the offending text.
public enum MoneyError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidAmount(String)
    case tooManyDecimals(String)
    case invalidCurrency(String)
    case invalidDecimals(Int)
    case currencyMismatch(Currency, Currency)
    case overflow

    public var description: String {
        switch self {
        case .invalidAmount(let text): "'\(text)' is not a decimal amount"
        case .tooManyDecimals(let text): "'\(text)' has more than \(Money.maxDecimals) decimals"
        case .invalidCurrency(let text): "'\(text)' is not a currency code (three capital letters)"
        case .invalidDecimals(let decimals): "\(decimals) decimals is outside 0...\(Money.maxDecimals)"
        case .currencyMismatch(let left, let right): "cannot combine \(left) with \(right)"
        case .overflow: "amount out of range"
        }
    }
}
