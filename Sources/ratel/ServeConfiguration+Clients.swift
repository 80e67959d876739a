import RadiusProtocol
import RadiusServer
import RatingEngine
import TOMLKit

/// `[profile.NAME]`: a built-in profile (`base`) with any field changed.
enum ProfileReader {
    static let keys: Set<String> = [
        "base", "tech_prefixes", "international_prefix", "national_prefix", "country_code", "strip_realm",
        "session_timeout", "cisco_vsas", "sip_avp", "call_check", "caller_id", "kamailio_dictionary", "disconnect_port", "coa",
    ]

    static func read(_ table: TOMLTable, name: String, known: [String: NASProfile],
                     fail: @escaping (String?, String) -> ConfigurationError) throws(ConfigurationError) -> NASProfile {
        let fields = TOMLFields(table: table, path: "profile.\(name).", allowed: keys, fail: fail)
        try fields.rejectUnknownKeys()
        let baseName = try fields.optionalString("base") ?? "generic"
        guard var profile = known[baseName] else {
            throw fail("profile.\(name).base", "unknown profile '\(baseName)' (known: \(known.keys.sorted().joined(separator: ", ")))")
        }
        profile.name = name
        profile.numbers.techPrefixes = try fields.optionalStrings("tech_prefixes") ?? profile.numbers.techPrefixes
        profile.numbers.internationalPrefix = try fields.optionalString("international_prefix") ?? profile.numbers.internationalPrefix
        profile.numbers.nationalPrefix = try fields.optionalString("national_prefix") ?? profile.numbers.nationalPrefix
        profile.numbers.countryCode = try fields.optionalString("country_code") ?? profile.numbers.countryCode
        for (key, text) in [("international_prefix", profile.numbers.internationalPrefix), ("national_prefix", profile.numbers.nationalPrefix),
                            ("country_code", profile.numbers.countryCode)] where !text.allSatisfy(\.isNumber) {
            throw fail("profile.\(name).\(key)", "must be digits")
        }
        profile.stripRealm = try fields.optionalBool("strip_realm") ?? profile.stripRealm
        profile.grantInSessionTimeout = try fields.optionalBool("session_timeout") ?? profile.grantInSessionTimeout
        profile.ciscoVSAs = try fields.optionalBool("cisco_vsas") ?? profile.ciscoVSAs
        if let avp = try fields.optionalString("sip_avp") { profile.sipAVPGrantName = avp.isEmpty ? nil : avp }
        profile.allowCallCheck = try fields.optionalBool("call_check") ?? profile.allowCallCheck
        profile.allowCallerID = try fields.optionalBool("caller_id") ?? profile.allowCallerID
        profile.kamailioDictionary = try fields.optionalBool("kamailio_dictionary") ?? profile.kamailioDictionary
        if let port = try fields.optionalInt("disconnect_port", in: 0...65_535) { profile.disconnectPort = port == 0 ? nil : Int(port) }
        profile.acceptsCoA = try fields.optionalBool("coa") ?? profile.acceptsCoA
        if profile.acceptsCoA && profile.disconnectPort == nil {
            throw fail("profile.\(name).coa", "needs a disconnect_port to send CoA-Request to")
        }
        return profile
    }
}

/// `[[client]]`: a NAS, by address or CIDR block, with its secret and profile.
enum ClientReader {
    static let keys: Set<String> = ["name", "address", "secret", "profile", "require_message_authenticator"]

    static func read(_ table: TOMLTable, index: Int, profiles: [String: NASProfile],
                     fail: @escaping (String?, String) -> ConfigurationError) throws(ConfigurationError) -> NASClient {
        let path = "client[\(index)]."
        let fields = TOMLFields(table: table, path: path, allowed: keys, fail: fail)
        try fields.rejectUnknownKeys()
        let name = try fields.string("name")
        guard !name.isEmpty, !name.contains("/"), name.utf8.count <= 64 else {
            throw fail(path + "name", "must be 1-64 characters without '/'")
        }
        let addresses: [String]
        if let list = table["address"]?.array {
            addresses = list.compactMap(\.string)
            guard addresses.count == list.count, !addresses.isEmpty else { throw fail(path + "address", "must be an address or a list of them") }
        } else {
            addresses = [try fields.string("address")]
        }
        var networks: [IPNetwork] = []
        for address in addresses {
            do { networks.append(try IPNetwork(address)) } catch { throw fail(path + "address", error.description) }
        }
        let secret = try fields.string("secret")
        guard !secret.isEmpty, secret.utf8.count <= 128 else { throw fail(path + "secret", "must be 1-128 characters") }
        let profileName = try fields.optionalString("profile") ?? "generic"
        guard let profile = profiles[profileName] else {
            throw fail(path + "profile", "unknown profile '\(profileName)' (known: \(profiles.keys.sorted().joined(separator: ", ")))")
        }
        let requireMA = try fields.optionalBool("require_message_authenticator") ?? true
        // A client trusted without Message-Authenticator may not relay Proxy-State (BlastRADIUS).
        let limitProxyState = !requireMA
        return NASClient(name: name, networks: networks, secret: Array(secret.utf8), profile: profile,
                         requestPolicy: RequestPolicy(requireMessageAuthenticator: requireMA, limitProxyState: limitProxyState))
    }
}
