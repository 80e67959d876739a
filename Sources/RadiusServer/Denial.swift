public import Ledger
import RatingEngine
import RadiusProtocol

/// Why an Access-Request is refused: the ledger's refusals plus what only the RADIUS side knows.
/// Each has a metric label, a Reply-Message and a Cisco h323-return-code (research digest 8.3).
public enum Denial: Sendable, Equatable, CustomStringConvertible {
    case account(Refusal)
    case wrongPassword
    case badCredential(String)
    case noCredential
    case callCheckNotAllowed
    case throttled
    case invalidNumber
    case noRate
    case notEvenFirstIncrement(available: Int64)
    case serviceUnavailable

    public var reason: String {
        switch self {
        case .account(let refusal):
            switch refusal {
            case .unknownAccount: "unknown_account"
            case .inactive: "inactive"
            case .disabled: "disabled"
            case .dropped: "dropped"
            case .expired: "expired"
            case .tooManyCalls: "too_many_calls"
            case .insufficientFunds: "insufficient_funds"
            }
        case .wrongPassword: "wrong_password"
        case .badCredential: "bad_credential"
        case .noCredential: "no_credential"
        case .callCheckNotAllowed: "call_check_not_allowed"
        case .throttled: "throttled"
        case .invalidNumber: "invalid_number"
        case .noRate: "no_rate"
        case .notEvenFirstIncrement: "insufficient_funds"
        case .serviceUnavailable: "service_unavailable"
        }
    }

    /// What the caller may hear or the softswitch may log; never the PIN or the secret.
    public var description: String {
        switch self {
        case .account(let refusal): refusal.description.prefix(1).uppercased() + refusal.description.dropFirst()
        case .wrongPassword: "Wrong PIN or password"
        case .badCredential(let why): "Malformed credential: \(why)"
        case .noCredential: "No password, and no caller ID bound to an account"
        case .callCheckNotAllowed: "This client may not authorise calls without a password"
        case .throttled: "Too many failed attempts; try again later"
        case .invalidNumber: "The called number is not a valid number"
        case .noRate: "The destination is not allowed"
        case .notEvenFirstIncrement(let available):
            "Insufficient funds (available \(Money.format(micros: available, minimumDecimals: 2)))"
        case .serviceUnavailable: "Service not available"
        }
    }

    /// Cisco's debit-card return codes as PortaOne reproduces them.
    public var ciscoReturnCode: Int {
        switch self {
        case .account(.unknownAccount): 1
        case .wrongPassword, .badCredential, .noCredential: 2
        case .account(.tooManyCalls): 3
        case .account(.insufficientFunds(let available)), .notEvenFirstIncrement(let available): available > 0 ? 12 : 4
        case .account(.expired): 5
        case .account(.inactive), .account(.disabled), .account(.dropped), .callCheckNotAllowed: 7
        case .serviceUnavailable: 8
        case .noRate: 9
        case .throttled: 10
        case .invalidNumber: 11
        }
    }

    /// A Reject carries only Reply-Message (and the return code for Cisco), per RFC 2865 section 2.
    func attributes(for profile: NASProfile) -> [OutgoingAttribute] {
        var attributes = [OutgoingAttribute(AttributeType.replyMessage, text: description)]
        if profile.ciscoVSAs {
            attributes.append(CiscoVSA.attribute(CiscoVSA.returnCode, "h323-return-code", String(ciscoReturnCode)))
        }
        return attributes
    }
}
