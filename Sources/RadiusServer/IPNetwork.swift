public import NIOCore

/// An address or a CIDR block a NAS client is known by. IPv4-mapped IPv6 sources are matched as IPv4,
/// so a client configured as 192.0.2.1 is found whichever socket family its packets arrive on.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    public let base: [UInt8]
    public let prefixLength: Int

    public init(_ text: String) throws(ConfigurationError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let host = parts.first, let address = try? SocketAddress(ipAddress: String(host), port: 0),
              let bytes = IPNetwork.bytes(of: address) else {
            throw ConfigurationError("'\(text)' is not an IP address or CIDR block")
        }
        let maximum = bytes.count * 8
        var length = maximum
        if parts.count == 2 {
            guard let given = Int(parts[1]), (0...maximum).contains(given) else {
                throw ConfigurationError("'\(text)': the prefix length must be 0-\(maximum)")
            }
            length = given
        }
        base = IPNetwork.masked(bytes, length)
        prefixLength = length
    }

    /// The block in its usual notation, its prefix length always written: `10.0.0.0/8`, `192.0.2.1/32`.
    public var description: String {
        let address = (try? SocketAddress(packedIPAddress: ByteBuffer(bytes: base), port: 0))?.ipAddress
        return "\(address ?? base.map(String.init).joined(separator: "."))/\(prefixLength)"
    }

    /// The block's base in the form a datagram's source takes, so a table can key both alike.
    public var baseHost: SourceHost {
        SourceHost(number: base.reduce(UInt128(0)) { $0 << 8 | UInt128($1) }, isIPv4: base.count == 4)
    }

    /// The raw address of a socket address: 4 octets for IPv4 (and IPv4-mapped IPv6), 16 for IPv6.
    public static func bytes(of address: SocketAddress) -> [UInt8]? {
        guard let host = SourceHost(address) else { return nil }
        let count = host.isIPv4 ? 4 : 16
        return (0..<count).map { UInt8(truncatingIfNeeded: host.number >> (8 * (count - 1 - $0))) }
    }

    private static func masked(_ bytes: [UInt8], _ length: Int) -> [UInt8] {
        bytes.indices.map { bytes[$0] & mask(octet: $0, length) }
    }

    private static func mask(octet index: Int, _ length: Int) -> UInt8 {
        let bitsHere = max(0, min(8, length - index * 8))
        return bitsHere == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsHere))
    }
}

/// A datagram's source host as one number, read where it lies in the socket address (every
/// datagram needs it, so no copy of the octets is made). An IPv4-mapped IPv6 source is IPv4.
public struct SourceHost: Hashable, Sendable {
    /// The address as a big-endian number: 32 significant bits for IPv4, 128 for IPv6.
    public let number: UInt128
    public let isIPv4: Bool

    init(number: UInt128, isIPv4: Bool) {
        self.number = number
        self.isIPv4 = isIPv4
    }

    public init?(_ address: SocketAddress) {
        switch address {
        // sockaddr_in is family(2) port(2) address(4); sockaddr_in6 is family(2) port(2) flow(4) address(16).
        case .v4(let v4):
            number = UInt128(withUnsafeBytes(of: v4.address) { UInt32(bigEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) })
            isIPv4 = true
        case .v6(let v6):
            let (high, low) = withUnsafeBytes(of: v6.address) { octets in
                (UInt64(bigEndian: octets.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                 UInt64(bigEndian: octets.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
            }
            isIPv4 = high == 0 && low >> 32 == 0xFFFF
            number = isIPv4 ? UInt128(low & 0xFFFF_FFFF) : UInt128(high) << 64 | UInt128(low)
        case .unixDomainSocket:
            return nil
        }
    }
}

/// A configuration value Ratel cannot run with; the message names the key or value.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
