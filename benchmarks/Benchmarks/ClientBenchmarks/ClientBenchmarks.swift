import Benchmark
import NIOCore
import RadiusProtocol
import RadiusServer

// Figures for the README: `make bench-clients` (also part of `make bench`). Every datagram looks
// its NAS client up by source address (from the socket address, as the engine does); the
// baseline is the same lookup in a table of two clients.

/// `count` gateways, each its own address (10.x.y.1), plus a /24 around every hundredth of them and
/// one /8 around them all: three prefix lengths, as an operator's mix of gateways and sites has.
func gateways(_ count: Int) -> [NASClient] {
    var clients = (0..<count).map { index in
        client("gw-\(index)", ["10.\(index / 256 % 256).\(index % 256).1"])
    }
    clients += stride(from: 0, to: count, by: 100).map { index in
        client("site-\(index)", ["10.\(index / 256 % 256).\(index % 256).0/24"])
    }
    clients.append(client("all", ["10.0.0.0/8"]))
    return clients
}

func client(_ name: String, _ addresses: [String]) -> NASClient {
    NASClient(name: name, networks: addresses.compactMap { try? IPNetwork($0) }, secret: Array("secret".utf8), profile: .generic,
              requestPolicy: RequestPolicy(requireMessageAuthenticator: true, limitProxyState: false))
}

/// Sources spread over the gateways, a few from the /8 only: every lookup finds a client.
func sources(_ count: Int) -> [SocketAddress] {
    (0..<4_096).compactMap { index in
        let gateway = index * 7_919 % count
        let address = index % 16 == 0 ? "10.250.\(index % 256).9" : "10.\(gateway / 256 % 256).\(gateway % 256).1"
        return try? SocketAddress(ipAddress: address, port: 1812)
    }
}

/// The table as it was before the blocks were filed by prefix length: the source's octets copied
/// out, then every block of every client tried.
struct LinearClients {
    let clients: [NASClient]

    @inline(never)
    func client(for source: SocketAddress) -> NASClient? {
        guard let address = IPNetwork.bytes(of: source) else { return nil }
        var best: (client: NASClient, length: Int)?
        for client in clients {
            for network in client.networks where Self.block(network, contains: address) {
                if network.prefixLength > best?.length ?? -1 { best = (client, network.prefixLength) }
            }
        }
        return best?.client
    }

    /// Octet by octet, with no masked copy, as the former table compared.
    static func block(_ network: IPNetwork, contains address: [UInt8]) -> Bool {
        guard address.count == network.base.count else { return false }
        for index in address.indices {
            let bitsHere = max(0, min(8, network.prefixLength - index * 8))
            let mask: UInt8 = bitsHere == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsHere))
            if address[index] & mask != network.base[index] { return false }
        }
        return true
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.throughput, .wallClock], warmupIterations: 1,
                                           maxDuration: .seconds(3), maxIterations: 50)
    let mask = 4_095

    Benchmark("Client lookup, 2 clients (baseline)", configuration: .init(scalingFactor: .mega)) { benchmark in
        let table = ClientTable([client("lab", ["10.0.0.1"]), client("all", ["10.0.0.0/8"])])
        let from = sources(1)
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations { blackHole(SourceHost(from[index & mask]).flatMap(table.client(for:))) }
    }

    Benchmark("Client lookup, 10,000 gateways, 100 sites, one /8", configuration: .init(scalingFactor: .mega)) { benchmark in
        let table = ClientTable(gateways(10_000))
        let from = sources(10_000)
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations { blackHole(SourceHost(from[index & mask]).flatMap(table.client(for:))) }
    }

    Benchmark("Client lookup, the same, every block tried (former table)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let table = LinearClients(clients: gateways(10_000))
        let from = sources(10_000)
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations { blackHole(table.client(for: from[index & mask])) }
    }
}
