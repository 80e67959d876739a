/// The configured clients; a source address belongs to the client with the most specific block
/// (the first such client, should two list the same block).
///
/// Every datagram looks its client up, so the blocks are filed by prefix length and masked
/// address: a lookup costs one dictionary probe per prefix length in use (one or two, usually),
/// however many clients there are. Trying every client's every block, as this table once did,
/// cost a comparison per block on every packet: an operator with thousands of gateways would
/// have paid more for that than for the rest of a request.
public struct ClientTable: Sendable {
    public let clients: [NASClient]
    private let byName: [String: Int]
    private let ipv4: [Level]
    private let ipv6: [Level]

    /// The blocks of one prefix length, by masked address, each to the index of its client.
    private struct Level: Sendable {
        let mask: UInt128
        let blocks: [UInt128: Int]
    }

    public init(_ clients: [NASClient]) {
        self.clients = clients
        var byName: [String: Int] = [:]
        var ipv4: [Int: [UInt128: Int]] = [:]
        var ipv6: [Int: [UInt128: Int]] = [:]
        for (index, client) in clients.enumerated() {
            byName[client.name] = byName[client.name] ?? index
            for network in client.networks {
                if network.baseHost.isIPv4 {
                    Self.file(network, of: index, in: &ipv4)
                } else {
                    Self.file(network, of: index, in: &ipv6)
                }
            }
        }
        self.byName = byName
        self.ipv4 = Self.ordered(ipv4, width: 32)
        self.ipv6 = Self.ordered(ipv6, width: 128)
    }

    public func client(named name: String) -> NASClient? { byName[name].map { clients[$0] } }

    /// The client a datagram from `source` belongs to.
    public func client(for source: SourceHost) -> NASClient? {
        for level in source.isIPv4 ? ipv4 : ipv6 {
            if let index = level.blocks[source.number & level.mask] { return clients[index] }
        }
        return nil
    }

    /// Files `network` (its base is masked already) under its prefix length; the first client to
    /// list a block keeps it.
    private static func file(_ network: IPNetwork, of index: Int, in levels: inout [Int: [UInt128: Int]]) {
        let key = network.baseHost.number
        levels[network.prefixLength, default: [:]][key] = levels[network.prefixLength]?[key] ?? index
    }

    /// Longest prefix first, so the first block found is the most specific.
    private static func ordered(_ byLength: [Int: [UInt128: Int]], width: Int) -> [Level] {
        byLength.sorted { $0.key > $1.key }.map { length, blocks in
            Level(mask: length == 0 ? 0 : ~UInt128(0) << (width - length), blocks: blocks)
        }
    }
}
