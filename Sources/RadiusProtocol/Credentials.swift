/// Why the credentials in a well-framed request cannot be checked. The request is answered with
/// an Access-Reject (RFC 2865 section 5: a bad value in an Access-Request is refused, not dropped).
public enum CredentialError: Error, Sendable, Equatable, CustomStringConvertible {
    case passwordLength(Int)
    case chapPasswordLength(Int)
    case emptyChapChallenge
    case bothPasswordAndChap

    public var reason: String {
        switch self {
        case .passwordLength: "user_password_length"
        case .chapPasswordLength: "chap_password_length"
        case .emptyChapChallenge: "chap_challenge_empty"
        case .bothPasswordAndChap: "password_and_chap"
        }
    }

    public var description: String {
        switch self {
        case .passwordLength(let count): "User-Password of \(count) octets (16 to 128, a multiple of 16, expected)"
        case .chapPasswordLength(let count): "CHAP-Password of \(count) octets (17 expected)"
        case .emptyChapChallenge: "empty CHAP-Challenge"
        case .bothPasswordAndChap: "both User-Password and CHAP-Password"
        }
    }
}

/// User-Password hiding (RFC 2865 section 5.2): the password padded with NULs to a multiple of
/// 16, each block XORed with MD5(secret + previous ciphertext block, or the authenticator first).
public enum UserPassword {
    public static func reveal(_ hidden: ArraySlice<UInt8>, secret: [UInt8], authenticator: ArraySlice<UInt8>)
        throws(CredentialError) -> [UInt8]
    {
        guard (16...128).contains(hidden.count), hidden.count % 16 == 0 else { throw .passwordLength(hidden.count) }
        var clear: [UInt8] = []
        clear.reserveCapacity(hidden.count)
        var previous = authenticator
        for start in stride(from: hidden.startIndex, to: hidden.endIndex, by: 16) {
            let block = hidden[start..<start + 16]
            pad(secret, previous).withUnsafeBytes { key in
                for offset in 0..<16 { clear.append(block[start + offset] ^ key[offset]) }
            }
            previous = block
        }
        while clear.last == 0 { clear.removeLast() }
        return clear
    }

    /// What a client sends; passwords longer than 128 octets are cut to 128.
    public static func hide(_ password: [UInt8], secret: [UInt8], authenticator: ArraySlice<UInt8>) -> [UInt8] {
        var hidden = Array(password.prefix(128))
        hidden += [UInt8](repeating: 0, count: max(1, (hidden.count + 15) / 16) * 16 - hidden.count)
        var previous = authenticator
        for start in stride(from: 0, to: hidden.count, by: 16) {
            pad(secret, previous).withUnsafeBytes { key in
                for offset in 0..<16 { hidden[start + offset] ^= key[offset] }
            }
            previous = hidden[start..<start + 16]
        }
        return hidden
    }

    /// MD5(secret + previous block), without joining the two into a new buffer.
    private static func pad(_ secret: [UInt8], _ previous: ArraySlice<UInt8>) -> MD5Digest {
        var md5 = MD5()
        md5.update(secret)
        md5.update(previous)
        return md5.finalize()
    }
}

/// CHAP (RFC 2865 sections 2.2 and 5.3): CHAP-Password is the CHAP identifier and
/// MD5(identifier + password + challenge), the challenge being CHAP-Challenge if sent, else
/// the Request Authenticator.
public enum CHAP {
    /// `chapPassword` and `challenge` as `RadiusPacket.presentedCredential` checked them; any
    /// other shape simply does not match.
    public static func matches(chapPassword: ArraySlice<UInt8>, challenge: ArraySlice<UInt8>, password: [UInt8]) -> Bool {
        guard let identifier = chapPassword.first else { return false }
        return constantTimeEqual(response(identifier: identifier, password: password, challenge: challenge),
                                 chapPassword.dropFirst())
    }

    public static func response(identifier: UInt8, password: [UInt8], challenge: ArraySlice<UInt8>) -> [UInt8] {
        var md5 = MD5()
        md5.update([identifier])
        md5.update(password)
        md5.update(challenge)
        return md5.finalize().array
    }
}

/// The password-based credential an Access-Request carries, decoded but not yet checked.
public enum PresentedCredential: Sendable, Equatable {
    case password([UInt8])
    case chap(response: ArraySlice<UInt8>, challenge: ArraySlice<UInt8>)
    /// Neither: a digest, a caller-ID (PIN-less) or a credential-less Call-Check request.
    case none
}

extension RadiusPacket {
    /// User-Password revealed, or CHAP-Password with its challenge; both at once is refused
    /// (RFC 2865 section 4.1).
    public func presentedCredential(secret: [UInt8]) throws(CredentialError) -> PresentedCredential {
        let password = first(AttributeType.userPassword)
        let chap = first(AttributeType.chapPassword)
        switch (password, chap) {
        case (.some, .some):
            throw .bothPasswordAndChap
        case (.some(let hidden), nil):
            return .password(try UserPassword.reveal(hidden, secret: secret, authenticator: authenticator))
        case (nil, .some(let response)):
            guard response.count == 17 else { throw .chapPasswordLength(response.count) }
            let challenge = first(AttributeType.chapChallenge) ?? authenticator
            guard !challenge.isEmpty else { throw .emptyChapChallenge }
            return .chap(response: response, challenge: challenge)
        case (nil, nil):
            return .none
        }
    }
}
