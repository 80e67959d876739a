/// Why a well-framed request is not from the client it claims to be, or breaks the rules that
/// guard against forged replies (RFC 3579, RFC 5080, RFC 5997, BlastRADIUS). Such requests are
/// silently discarded and counted by `reason`.
public enum AuthenticityError: Error, Sendable, Equatable, CustomStringConvertible {
    case messageAuthenticatorLength(Int)
    case severalMessageAuthenticators
    case messageAuthenticatorMismatch
    case missingMessageAuthenticator
    case proxyStateWithoutMessageAuthenticator
    case requestAuthenticatorMismatch
    case responseAuthenticatorMismatch

    public var reason: String {
        switch self {
        case .messageAuthenticatorLength: "message_authenticator_length"
        case .severalMessageAuthenticators: "several_message_authenticators"
        case .messageAuthenticatorMismatch: "message_authenticator_mismatch"
        case .missingMessageAuthenticator: "missing_message_authenticator"
        case .proxyStateWithoutMessageAuthenticator: "proxy_state_without_message_authenticator"
        case .requestAuthenticatorMismatch: "request_authenticator_mismatch"
        case .responseAuthenticatorMismatch: "response_authenticator_mismatch"
        }
    }

    public var description: String {
        switch self {
        case .messageAuthenticatorLength(let count): "Message-Authenticator of \(count) octets (16 expected)"
        case .severalMessageAuthenticators: "more than one Message-Authenticator"
        case .messageAuthenticatorMismatch: "Message-Authenticator does not match (wrong shared secret?)"
        case .missingMessageAuthenticator: "no Message-Authenticator, and this client must send one"
        case .proxyStateWithoutMessageAuthenticator: "Proxy-State without Message-Authenticator (limit_proxy_state)"
        case .requestAuthenticatorMismatch: "Request Authenticator does not match (wrong shared secret?)"
        case .responseAuthenticatorMismatch: "Response Authenticator does not match"
        }
    }
}

/// What a client's configuration demands of its Access-Requests (draft-ietf-radext-deprecating-radius).
public struct RequestPolicy: Sendable, Equatable {
    public var requireMessageAuthenticator: Bool
    /// Only consulted when Message-Authenticator is not required.
    public var limitProxyState: Bool

    public init(requireMessageAuthenticator: Bool = true, limitProxyState: Bool = true) {
        self.requireMessageAuthenticator = requireMessageAuthenticator
        self.limitProxyState = limitProxyState
    }
}

extension RadiusPacket {
    /// Checks a request from a client that shares `secret`: Message-Authenticator whenever
    /// present (wherever it is), the accounting Request Authenticator, and the client's policy.
    /// Requests are checked before any attribute value is looked at.
    public func verifyRequest(secret: [UInt8], policy: RequestPolicy) throws(AuthenticityError) {
        try verifyRequest(secret: SharedSecret(secret), policy: policy)
    }

    /// The same, with a client's secret prepared once (what the server uses).
    public func verifyRequest(secret: SharedSecret, policy: RequestPolicy) throws(AuthenticityError) {
        var hashedAuthenticator: ArraySlice<UInt8>?
        switch code {
        case .accountingRequest, .disconnectRequest, .coaRequest:
            let matches = Self.requestAuthenticatorDigest(of: bytes, secret: secret.bytes).withUnsafeBytes {
                constantTimeEqual($0, authenticator)
            }
            guard matches else {
                throw .requestAuthenticatorMismatch
            }
            hashedAuthenticator = Self.zeroAuthenticator[...]
        default:
            hashedAuthenticator = nil
        }
        if try verifyMessageAuthenticator(hashing: hashedAuthenticator, secret: secret) { return }
        switch code {
        case .statusServer:
            throw .missingMessageAuthenticator
        case .accessRequest where policy.requireMessageAuthenticator:
            throw .missingMessageAuthenticator
        case .accessRequest where policy.limitProxyState && attributes.contains(where: { $0.type == AttributeType.proxyState }):
            throw .proxyStateWithoutMessageAuthenticator
        case .accessRequest where attributes.contains(where: { $0.type == AttributeType.eapMessage }):
            throw .missingMessageAuthenticator
        default:
            return
        }
    }

    /// Checks a response to a request this side sent (Disconnect/CoA ACK or NAK): the Response
    /// Authenticator, and Message-Authenticator when present.
    public func verifyResponse(to requestAuthenticator: ArraySlice<UInt8>, secret: [UInt8]) throws(AuthenticityError) {
        var md5 = MD5()
        md5.update(bytes[0..<4])
        md5.update(requestAuthenticator)
        md5.update(bytes[20...])
        md5.update(secret)
        guard md5.finalize().withUnsafeBytes({ constantTimeEqual($0, authenticator) }) else { throw .responseAuthenticatorMismatch }
        _ = try verifyMessageAuthenticator(hashing: requestAuthenticator, secret: SharedSecret(secret))
    }

    /// Checks the packet's one Message-Authenticator, if it has one (HMAC-MD5 over the packet
    /// with its value zeroed and, when given, `hashing` in the authenticator field); returns
    /// whether there was one.
    private func verifyMessageAuthenticator(hashing authenticatorField: ArraySlice<UInt8>?, secret: SharedSecret)
        throws(AuthenticityError) -> Bool
    {
        var found: AttributeSpan?
        for candidate in attributes where candidate.type == AttributeType.messageAuthenticator {
            guard found == nil else { throw .severalMessageAuthenticators }
            found = candidate
        }
        guard let span = found else { return false }
        guard span.count == 16 else { throw .messageAuthenticatorLength(span.count) }
        let code = secret.hmac { md5 in
            md5.update(bytes[0..<4])
            md5.update(authenticatorField ?? bytes[4..<20])
            md5.update(bytes[20..<span.offset])
            md5.update(Self.zeroAuthenticator)
            md5.update(bytes[(span.offset + 16)...])
        }
        guard code.withUnsafeBytes({ constantTimeEqual($0, value(span)) }) else { throw .messageAuthenticatorMismatch }
        return true
    }

    /// MD5(Code + Identifier + Length + 16 zero octets + Attributes + Secret) (RFC 2866 section 3),
    /// every accounting request's check.
    static func requestAuthenticatorDigest(of bytes: [UInt8], secret: [UInt8]) -> MD5Digest {
        var md5 = MD5()
        md5.update(bytes[0..<4])
        md5.update(zeroAuthenticator)
        md5.update(bytes[20...])
        md5.update(secret)
        return md5.finalize()
    }

    static let zeroAuthenticator = [UInt8](repeating: 0, count: 16)
}

/// Compares without an early exit, so timing tells an attacker nothing about how much matched.
public func constantTimeEqual(_ left: some Sequence<UInt8>, _ right: some Collection<UInt8>) -> Bool {
    // Arrays, slices and digests, every caller's, are compared in place: through the generic
    // iterators, comparing a password or a digest cost a protocol call per octet.
    let inPlace = left.withContiguousStorageIfAvailable { left in
        right.withContiguousStorageIfAvailable { right in constantTimeEqual(contiguous: left, right) }
    }
    if let inPlace, let equal = inPlace { return equal }
    return Array(left).withUnsafeBufferPointer { left in
        Array(right).withUnsafeBufferPointer { right in constantTimeEqual(contiguous: left, right) }
    }
}

private func constantTimeEqual(contiguous left: UnsafeBufferPointer<UInt8>, _ right: UnsafeBufferPointer<UInt8>) -> Bool {
    var difference: UInt8 = 0
    for index in 0..<left.count {
        difference |= left[index] ^ (index < right.count ? right[index] : ~left[index])
    }
    return difference == 0 && left.count == right.count
}
