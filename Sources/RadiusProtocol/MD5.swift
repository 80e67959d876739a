internal import CLibcrypto

/// MD5 (RFC 1321) by the system's libcrypto, its state a value on the stack. A PAP request takes
/// six hashes (two HMACs, the password pad and the Response Authenticator); swift-crypto's MD5
/// allocated a context for each, and its wrappers cost more than the hashing itself (perf).
/// A copy is an independent hash, which is how `SharedSecret` keeps its keyed states.
struct MD5: Sendable {
    private var context = MD5_CTX()

    init() { MD5_Init(&context) }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        MD5_Update(&context, base, bytes.count)
    }

    mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }
    mutating func update(_ bytes: ArraySlice<UInt8>) { bytes.withUnsafeBytes { update($0) } }

    func finalize() -> MD5Digest {
        var copy = context
        var digest = MD5Digest()
        withUnsafeMutableBytes(of: &digest.octets) { out in
            _ = MD5_Final(out.baseAddress?.assumingMemoryBound(to: UInt8.self), &copy)
        }
        return digest
    }

    static func hash(_ bytes: [UInt8]) -> MD5Digest {
        var md5 = MD5()
        md5.update(bytes)
        return md5.finalize()
    }
}

/// Sixteen octets, read in place: an array of them would be one more allocation per hash.
struct MD5Digest: Sendable {
    fileprivate var octets: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                             UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)
        = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try Swift.withUnsafeBytes(of: octets, body)
    }

    var array: [UInt8] { withUnsafeBytes { Array($0) } }
}
