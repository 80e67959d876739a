/// A client's shared secret, with the two HMAC-MD5 key blocks (RFC 2104) already hashed: every
/// Access-Request and every answer to one carries a Message-Authenticator, and hashing the
/// padded key anew cost two of the dozen MD5 blocks a PAP request needs. Make one per client
/// and keep it; the `[UInt8]` forms of the calls that take one make it each time.
public struct SharedSecret: Sendable {
    public let bytes: [UInt8]
    let innerKeyed: MD5
    let outerKeyed: MD5

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        let blockSize = 64
        let key = bytes.count > blockSize ? MD5.hash(bytes).array : bytes
        var inner = MD5()
        var outer = MD5()
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: blockSize) { pad in
            for index in 0..<blockSize { pad[index] = (index < key.count ? key[index] : 0) ^ 0x36 }
            inner.update(UnsafeRawBufferPointer(pad))
            for index in 0..<blockSize { pad[index] = (index < key.count ? key[index] : 0) ^ 0x5c }
            outer.update(UnsafeRawBufferPointer(pad))
        }
        innerKeyed = inner
        outerKeyed = outer
    }

    /// HMAC-MD5 of what `message` feeds in, from copies of the keyed states. Hashing a packet in
    /// pieces spares copying it to zero its Message-Authenticator.
    func hmac(_ message: (inout MD5) -> Void) -> MD5Digest {
        var inner = innerKeyed
        message(&inner)
        var outer = outerKeyed
        inner.finalize().withUnsafeBytes { outer.update($0) }
        return outer.finalize()
    }
}
