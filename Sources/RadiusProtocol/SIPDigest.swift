/// Why a SIP digest in an Access-Request cannot be checked; the request is refused.
public enum DigestError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformedAttributes
    case missing(String)
    case responseNotHex
    case unsupportedAlgorithm(String)
    case unsupportedQop(String)

    public var reason: String {
        switch self {
        case .malformedAttributes: "digest_attributes_malformed"
        case .missing: "digest_field_missing"
        case .responseNotHex: "digest_response_not_hex"
        case .unsupportedAlgorithm: "digest_algorithm_unsupported"
        case .unsupportedQop: "digest_qop_unsupported"
        }
    }

    public var description: String {
        switch self {
        case .malformedAttributes: "Digest-Attributes sub-attributes do not fill the attribute (type 1-10, length >= 3)"
        case .missing(let field): "digest without \(field)"
        case .responseNotHex: "Digest-Response is not 32 hexadecimal digits"
        case .unsupportedAlgorithm(let algorithm): "digest algorithm \(algorithm) (MD5 and MD5-sess are supported)"
        case .unsupportedQop(let qop): "digest qop \(qop) (auth or none is supported)"
        }
    }
}

/// A SIP digest as Kamailio's auth_radius sends it (draft-sterman-aaa-sip-00: Digest-Response
/// 206, Digest-Attributes 207 holding sub-attributes, several 207s concatenated), checked with
/// the RFC 2617 formulas. The password is looked up by the RADIUS User-Name; HA1 is built from
/// the digest's own user name.
public struct SIPDigest: Sendable, Equatable {
    public var realm: String
    public var nonce: String
    public var method: String
    public var uri: String
    public var qop: String?
    public var algorithm: String?
    public var cnonce: String?
    public var nonceCount: String?
    public var userName: String
    /// The 16 octets the client computed.
    public var response: [UInt8]

    /// Nil when the request carries no Digest-Response.
    public init?(_ packet: RadiusPacket) throws(DigestError) {
        guard let hex = packet.first(AttributeType.digestResponse) else { return nil }
        guard hex.count == 32, let response = Self.bytes(fromHex: hex) else { throw .responseNotHex }
        var fields: [UInt8: String] = [:]
        let joined = packet.all(AttributeType.digestAttributes).flatMap { $0 }
        var index = 0
        while index < joined.count {
            guard index + 2 <= joined.count else { throw .malformedAttributes }
            let type = joined[index]
            let length = Int(joined[index + 1])
            guard (1...10).contains(type), length >= 3, index + length <= joined.count else { throw .malformedAttributes }
            fields[type] = String(decoding: joined[index + 2..<index + length], as: UTF8.self)
            index += length
        }
        func required(_ type: UInt8, _ name: String) throws(DigestError) -> String {
            guard let value = fields[type] else { throw .missing(name) }
            return value
        }
        realm = try required(1, "realm")
        nonce = try required(2, "nonce")
        method = try required(3, "method")
        uri = try required(4, "uri")
        userName = try required(10, "user name")
        qop = fields[5]
        algorithm = fields[6]
        cnonce = fields[8]
        nonceCount = fields[9]
        self.response = response
        if let algorithm, !["md5", "md5-sess"].contains(algorithm.lowercased()) { throw .unsupportedAlgorithm(algorithm) }
        if let qop {
            // Kamailio 5.6 fills auth-int's body digest with the opaque value, so it cannot verify.
            guard qop.lowercased() == "auth" else { throw .unsupportedQop(qop) }
            guard cnonce != nil else { throw .missing("cnonce") }
            guard nonceCount != nil else { throw .missing("nonce count") }
        }
    }

    /// Whether the response matches `password`.
    public func matches(password: [UInt8]) -> Bool {
        constantTimeEqual(expectedResponse(password: password), response)
    }

    func expectedResponse(password: [UInt8]) -> [UInt8] {
        var ha1 = Self.md5Hex(Array("\(userName):\(realm):".utf8) + password)
        if algorithm?.lowercased() == "md5-sess" {
            ha1 = Self.md5Hex(Array("\(ha1):\(nonce):\(cnonce ?? "")".utf8))
        }
        let ha2 = Self.md5Hex(Array("\(method):\(uri)".utf8))
        let text = if let qop, let cnonce, let nonceCount {
            "\(ha1):\(nonce):\(nonceCount):\(cnonce):\(qop):\(ha2)"
        } else {
            "\(ha1):\(nonce):\(ha2)"
        }
        return MD5.hash(Array(text.utf8)).array
    }

    static func md5Hex(_ bytes: [UInt8]) -> String {
        MD5.hash(bytes).array.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    static func bytes(fromHex hex: ArraySlice<UInt8>) -> [UInt8]? {
        func nibble(_ character: UInt8) -> UInt8? {
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            guard index + 1 < hex.endIndex, let high = nibble(hex[index]), let low = nibble(hex[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
