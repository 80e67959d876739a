/// Why a packet could not be encoded. A reply that cannot be encoded is not sent: the server
/// answers with a plain refusal instead (fail closed).
public enum EncodeError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptyValue(type: UInt8)
    case valueTooLong(type: UInt8, count: Int)
    case packetTooLong(Int)

    public var description: String {
        switch self {
        case .emptyValue(let type): "attribute \(type) has an empty value, which RADIUS forbids"
        case .valueTooLong(let type, let count): "attribute \(type) has \(count) octets, above the 253 an attribute holds"
        case .packetTooLong(let length): "packet of \(length) octets exceeds the 4096-octet maximum"
        }
    }
}

/// An attribute to send: a type and its encoded value.
public struct OutgoingAttribute: Sendable, Equatable {
    public let type: UInt8
    public let value: [UInt8]

    public init(_ type: UInt8, _ value: [UInt8]) {
        self.type = type
        self.value = value
    }

    public init(_ type: UInt8, text: String) { self.init(type, Array(text.utf8)) }

    public init(_ type: UInt8, integer: UInt32) {
        self.init(type, [UInt8(truncatingIfNeeded: integer >> 24), UInt8(truncatingIfNeeded: integer >> 16),
                         UInt8(truncatingIfNeeded: integer >> 8), UInt8(truncatingIfNeeded: integer)])
    }

    /// A Vendor-Specific attribute holding one sub-attribute (RFC 2865 section 5.26).
    public init(vendor: UInt32, type: UInt8, _ value: [UInt8]) {
        var bytes: [UInt8] = [0, UInt8(truncatingIfNeeded: vendor >> 16), UInt8(truncatingIfNeeded: vendor >> 8),
                              UInt8(truncatingIfNeeded: vendor), type, UInt8(truncatingIfNeeded: value.count + 2)]
        bytes += value
        self.init(AttributeType.vendorSpecific, bytes)
    }
}

public enum PacketEncoder {
    /// A response to `request`: Message-Authenticator first when `withMessageAuthenticator`
    /// (always, for answers to Access-Request and Status-Server), computed before the Response
    /// Authenticator (RFC 3579 section 3.2; draft-ietf-radext-deprecating-radius).
    public static func response(_ code: RadiusCode, to request: RadiusPacket, attributes: [OutgoingAttribute],
                                secret: [UInt8], withMessageAuthenticator: Bool) throws(EncodeError) -> [UInt8] {
        try response(code, to: request, attributes: attributes, secret: SharedSecret(secret),
                     withMessageAuthenticator: withMessageAuthenticator)
    }

    public static func response(_ code: RadiusCode, to request: RadiusPacket, attributes: [OutgoingAttribute],
                                secret: SharedSecret, withMessageAuthenticator: Bool) throws(EncodeError) -> [UInt8] {
        var bytes = try frame(code, identifier: request.identifier, authenticator: request.authenticator,
                              attributes: attributes, withMessageAuthenticator: withMessageAuthenticator)
        if withMessageAuthenticator { signMessageAuthenticator(&bytes, secret: secret) }
        var md5 = MD5()
        md5.update(bytes)
        md5.update(secret.bytes)
        placeAuthenticator(md5.finalize(), in: &bytes)
        return bytes
    }

    /// Writes the digest over the Authenticator field in place (no array of it: that allocated).
    private static func placeAuthenticator(_ digest: MD5Digest, in bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { packet in
            digest.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: packet[4..<20]).copyMemory(from: $0) }
        }
    }

    /// A request whose authenticator is computed as for accounting (Accounting-Request,
    /// Disconnect-Request, CoA-Request): Message-Authenticator over the zeroed authenticator
    /// first, then the Request Authenticator (RFC 5176 section 3.4).
    public static func accountingStyleRequest(_ code: RadiusCode, identifier: UInt8, attributes: [OutgoingAttribute],
                                              secret: [UInt8], withMessageAuthenticator: Bool) throws(EncodeError) -> [UInt8] {
        var bytes = try frame(code, identifier: identifier, authenticator: RadiusPacket.zeroAuthenticator[...],
                              attributes: attributes, withMessageAuthenticator: withMessageAuthenticator)
        if withMessageAuthenticator { signMessageAuthenticator(&bytes, secret: SharedSecret(secret)) }
        placeAuthenticator(RadiusPacket.requestAuthenticatorDigest(of: bytes, secret: secret), in: &bytes)
        return bytes
    }

    /// An Access-Request or Status-Server with the given random `authenticator`; `password`, if
    /// given, is hidden as User-Password (RFC 2865 section 5.2).
    public static func accessRequest(_ code: RadiusCode = .accessRequest, identifier: UInt8, authenticator: [UInt8],
                                     attributes: [OutgoingAttribute], password: [UInt8]? = nil,
                                     secret: [UInt8]) throws(EncodeError) -> [UInt8] {
        var all = attributes
        if let password {
            all.append(OutgoingAttribute(AttributeType.userPassword,
                                         UserPassword.hide(password, secret: secret, authenticator: authenticator[...])))
        }
        var bytes = try frame(code, identifier: identifier, authenticator: authenticator[...], attributes: all,
                              withMessageAuthenticator: true)
        signMessageAuthenticator(&bytes, secret: SharedSecret(secret))
        return bytes
    }

    /// Fills in the Message-Authenticator that `frame` placed first, right after the header.
    private static func signMessageAuthenticator(_ bytes: inout [UInt8], secret: SharedSecret) {
        let code = secret.hmac { $0.update(bytes) }
        bytes.withUnsafeMutableBytes { packet in
            code.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: packet[22..<38]).copyMemory(from: $0) }
        }
    }

    private static func frame(_ code: RadiusCode, identifier: UInt8, authenticator: ArraySlice<UInt8>,
                              attributes: [OutgoingAttribute], withMessageAuthenticator: Bool) throws(EncodeError) -> [UInt8] {
        var length = RadiusPacket.headerLength + (withMessageAuthenticator ? 18 : 0)
        for attribute in attributes {
            guard !attribute.value.isEmpty else { throw .emptyValue(type: attribute.type) }
            guard attribute.value.count <= 253 else { throw .valueTooLong(type: attribute.type, count: attribute.value.count) }
            length += 2 + attribute.value.count
        }
        guard length <= RadiusPacket.maximumLength else { throw .packetTooLong(length) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        bytes += [code.rawValue, identifier, UInt8(length >> 8), UInt8(length & 0xFF)]
        bytes += authenticator
        if withMessageAuthenticator {
            bytes += [AttributeType.messageAuthenticator, 18]
            bytes += RadiusPacket.zeroAuthenticator
        }
        for attribute in attributes {
            bytes += [attribute.type, UInt8(attribute.value.count + 2)]
            bytes += attribute.value
        }
        return bytes
    }
}
