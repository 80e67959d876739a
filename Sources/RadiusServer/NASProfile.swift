public import RadiusProtocol

/// How a kind of NAS talks: how it writes numbers, where it expects the grant, which refusals it
/// understands and whether it takes Disconnect/CoA. `generic`, `cisco` and `kamailio` are built
/// in; a configuration may start from one and change any field.
public struct NASProfile: Sendable, Equatable {
    public var name: String
    public var numbers: NumberRules
    /// Kamailio appends `@realm` to User-Name; the account is the part before it.
    public var stripRealm: Bool
    public var grantInSessionTimeout: Bool
    /// Cisco VSAs: h323-credit-time with the grant, h323-return-code with every answer, and the
    /// stage-one balance (h323-credit-amount, h323-currency, h323-billing-model).
    public var ciscoVSAs: Bool
    /// Kamailio's SIP-AVP (225) `name#seconds`, read by auth_radius and misc_radius.
    public var sipAVPGrantName: String?
    /// Credential-less authorisation (Service-Type Call-Check, or a Cisco second stage without a password).
    public var allowCallCheck: Bool
    /// PIN-less calls from a caller ID bound to an account.
    public var allowCallerID: Bool
    /// Reads Kamailio's Sip-* numbers (101-109, 208, 211, 225) rather than the IETF meanings.
    public var kamailioDictionary: Bool
    /// Port of the NAS's RFC 5176 listener; nil when it has none (Kamailio 5.6).
    public var disconnectPort: Int?
    /// Takes CoA-Request with a new Session-Timeout, so a call can grow after a top-up.
    public var acceptsCoA: Bool

    public init(name: String, numbers: NumberRules = NumberRules(), stripRealm: Bool = false,
                grantInSessionTimeout: Bool = true, ciscoVSAs: Bool = false, sipAVPGrantName: String? = nil,
                allowCallCheck: Bool = false, allowCallerID: Bool = true, kamailioDictionary: Bool = false,
                disconnectPort: Int? = 3799, acceptsCoA: Bool = false) {
        self.name = name
        self.numbers = numbers
        self.stripRealm = stripRealm
        self.grantInSessionTimeout = grantInSessionTimeout
        self.ciscoVSAs = ciscoVSAs
        self.sipAVPGrantName = sipAVPGrantName
        self.allowCallCheck = allowCallCheck
        self.allowCallerID = allowCallerID
        self.kamailioDictionary = kamailioDictionary
        self.disconnectPort = disconnectPort
        self.acceptsCoA = acceptsCoA
    }

    public static let generic = NASProfile(name: "generic")
    /// Cisco IOS debit-card gateways: two-stage flow, h323 VSAs, packet of disconnect on 1700.
    public static let cisco = NASProfile(name: "cisco", ciscoVSAs: true, allowCallCheck: true, disconnectPort: 1700)
    /// Kamailio 5.6 with radcli: digest auth, `name@realm` user names, SIP URIs as numbers, no RFC 5176.
    public static let kamailio = NASProfile(name: "kamailio", stripRealm: true, sipAVPGrantName: "maxdur",
                                            allowCallCheck: true, kamailioDictionary: true, disconnectPort: nil)

    public static let builtIn: [String: NASProfile] = ["generic": .generic, "cisco": .cisco, "kamailio": .kamailio]
}

/// How the numbers a NAS sends become the digits the rate tries are keyed by.
public struct NumberRules: Sendable, Equatable {
    /// Prefixes a gateway puts before the number to route it (e.g. `0011#`); the first match is removed.
    public var techPrefixes: [String]
    /// The international access code before a country code (`00`, `011`).
    public var internationalPrefix: String
    /// The trunk prefix of national numbers (`0`), replaced by `countryCode`; empty to leave them.
    public var nationalPrefix: String
    public var countryCode: String

    public init(techPrefixes: [String] = [], internationalPrefix: String = "00", nationalPrefix: String = "",
                countryCode: String = "") {
        self.techPrefixes = techPrefixes
        self.internationalPrefix = internationalPrefix
        self.nationalPrefix = nationalPrefix
        self.countryCode = countryCode
    }

    /// `sip:+359888123456@host;user=phone` → `359888123456`. Nil when what is left is not digits.
    /// Works on the octets: Character-wise prefix tests and drops walked Unicode's grapheme
    /// rules for every request (2.5% of the event loop's samples at the PAP peak).
    public func normalise(_ raw: String) -> String? {
        let trimmed = raw.trimmingWhitespace()
        var text = trimmed.utf8[...]
        for scheme in Self.schemes where Self.starts(text, withLowercase: scheme) {
            text = text.dropFirst(scheme.utf8.count)
            if let end = text.firstIndex(where: { $0 == UInt8(ascii: "@") || $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: ">") }) {
                text = text[..<end]
            }
            break
        }
        if let prefix = techPrefixes.first(where: { !$0.isEmpty && text.starts(with: $0.utf8) }) { text = text.dropFirst(prefix.utf8.count) }
        var lead = ""
        if text.first == UInt8(ascii: "+") {
            text = text.dropFirst()
        } else if !internationalPrefix.isEmpty, text.starts(with: internationalPrefix.utf8) {
            text = text.dropFirst(internationalPrefix.utf8.count)
        } else if !nationalPrefix.isEmpty, !countryCode.isEmpty, text.starts(with: nationalPrefix.utf8) {
            text = text.dropFirst(nationalPrefix.utf8.count)
            lead = countryCode
        }
        func digits(_ bytes: some Sequence<UInt8>) -> Bool { bytes.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
        guard !(text.isEmpty && lead.isEmpty), digits(text), digits(lead.utf8) else { return nil }
        // Every cut above fell after an ASCII octet, so the indices are the text's own.
        return lead + trimmed[text.startIndex..<text.endIndex]
    }

    private static let schemes = ["sip:", "sips:", "tel:"]

    /// Case-insensitive for ASCII letters, without lowercasing a copy of the whole number.
    private static func starts(_ text: Substring.UTF8View, withLowercase prefix: String) -> Bool {
        var bytes = text.makeIterator()
        for expected in prefix.utf8 {
            guard let byte = bytes.next() else { return false }
            if (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) != expected { return false }
        }
        return true
    }
}

/// One RADIUS client: where its packets come from, the secret it shares and how it talks.
/// A class: every datagram looks its client up, and copying the struct out of the table
/// retained each of its strings and arrays (1.3% of the event loop's samples at the PAP peak).
public final class NASClient: Sendable {
    public let name: String
    public let networks: [IPNetwork]
    public var secret: [UInt8] { sharedSecret.bytes }
    /// The secret with its Message-Authenticator key hashed once, for every packet to and from this client.
    public let sharedSecret: SharedSecret
    public let profile: NASProfile
    public let requestPolicy: RequestPolicy

    public init(name: String, networks: [IPNetwork], secret: [UInt8], profile: NASProfile, requestPolicy: RequestPolicy) {
        self.name = name
        self.networks = networks
        sharedSecret = SharedSecret(secret)
        self.profile = profile
        self.requestPolicy = requestPolicy
    }
}

extension NASClient {
    /// The ledger key of a call's reservation: this NAS and the session id its accounting carries.
    /// Appended into one reserved string: interpolation cost a point of the event loop's samples.
    func sessionKey(_ session: String) -> String {
        var key = ""
        key.reserveCapacity(name.utf8.count + 1 + session.utf8.count)
        key += name
        key += "/"
        key += session
        return key
    }

    /// Whether `key` names a reservation this NAS opened; a Class echoed by another NAS cannot close it.
    func owns(_ key: String) -> Bool { key.hasPrefix(name + "/") }

    /// The account a User-Name names: Kamailio's `pin@realm` is the PIN where the profile says so.
    func accountName(_ userName: String) -> String {
        guard profile.stripRealm, let at = userName.firstIndex(of: "@") else { return userName }
        return String(userName[..<at])
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> Substring {
        let scalars = Substring(self)
        // Nearly every value arrives trimmed; asking each Character whether it is whitespace
        // walks Unicode's property tables.
        if let first = scalars.utf8.first, let last = scalars.utf8.last, Self.isPlainASCII(first), Self.isPlainASCII(last) { return scalars }
        guard let start = scalars.firstIndex(where: { !$0.isWhitespace }),
              let end = scalars.lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return scalars[start...end]
    }

    /// ASCII and not whitespace (tab, line feed, vertical tab, form feed, carriage return, space).
    private static func isPlainASCII(_ byte: UInt8) -> Bool { byte < 0x80 && byte != 0x20 && !(0x09...0x0D).contains(byte) }
}
