import Benchmark
import Foundation
import Ledger
import LedgerPostgres
import PostgresNIO
import Synchronization

// reserve+commit pairs per second, each store against a naive baseline on the same database in
// the same run. Every pair is durable before it counts: both operations were acknowledged.
// `make bench-ledger` from the repository root.

func scratchDirectory(_ name: String) -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("ratel-bench-\(name)-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Each pair is one scaled iteration, so throughput reads as pairs per second.
var pairConfiguration: Benchmark.Configuration { Benchmark.Configuration(
    metrics: [.wallClock, .throughput], timeUnits: .microseconds, warmupIterations: 1, scalingFactor: .kilo,
    maxDuration: .seconds(20), maxIterations: 30) }

let benchmarks: @Sendable () -> Void = {
    StartupChild.runIfChild()
    let opened = OpenStores()

    pairBenchmark("SQLite naive: one transaction per operation (baseline)", pair: { try await $0.pair(pin: $1, key: $2) }) {
        let directory = scratchDirectory("naive")
        let store = try SQLiteLedgerStore.open(directory: directory, now: benchmarkNow)
        let pins = try await seed(store)
        await store.close()
        return Seeded(ledger: try NaiveSQLiteLedger(path: directory + "/ledger.sqlite"), pins: pins)
    }

    pairBenchmark("SQLite store: group commit", pair: storePair) {
        let store = try SQLiteLedgerStore.open(directory: scratchDirectory("store"), now: benchmarkNow)
        opened.add(store)
        return Seeded(ledger: store as any LedgerStore, pins: try await seed(store))
    } teardown: {
        await opened.closeAll()
    }

    pairBenchmark("PostgreSQL naive: one transaction per operation (baseline)", pair: { try await $0.pair(pin: $1, key: $2) }) {
        let url = try await BenchPostgres.freshDatabase("ratel_bench_naive")
        let store = try await PostgresLedgerStore.open(url: url, keyFile: scratchDirectory("pg-naive") + "/ratel.key")
        let pins = try await seed(store)
        await store.close()
        let client = try BenchPostgres.client(url)
        runningClients.start(client)
        return Seeded(ledger: NaivePostgresLedger(client: client), pins: pins)
    } teardown: {
        runningClients.stopAll()
    }

    pairBenchmark("PostgreSQL store: atomic statements, batched", pair: storePair) {
        let url = try await BenchPostgres.freshDatabase("ratel_bench_store")
        let store = try await PostgresLedgerStore.open(url: url, keyFile: scratchDirectory("pg-store") + "/ratel.key",
                                                       maximumConnections: postgresConnections)
        opened.add(store)
        return Seeded(ledger: store as any LedgerStore, pins: try await seed(store))
    } teardown: {
        await opened.closeAll()
    }

    batchBenchmarks()
}

/// Registers one benchmark of reserve+commit pairs: `pair(ledger, pin, key)` runs one call.
func pairBenchmark<Ledger: Sendable>(_ name: String, pair: @escaping @Sendable (Ledger, String, Int) async throws -> Void,
                                     setup: @escaping () async throws -> Seeded<Ledger>,
                                     teardown: (() async throws -> Void)? = nil) {
    Benchmark(name, configuration: pairConfiguration) { (benchmark: Benchmark, fixture: Seeded<Ledger>) in
        let base = keys.claim(benchmark.scaledIterations.count)
        try await drive(pairs: benchmark.scaledIterations.count) { index in
            try await pair(fixture.ledger, fixture.pins[(base + index) % fixture.pins.count], base + index)
        }
    } setup: {
        try await setup()
    } teardown: {
        try await teardown?()
    }
}

/// Reservation keys stay unique across every iteration and benchmark of a run.
let keys = KeySource()

let runningClients = RunningClients()

/// Runs a PostgresClient's pool for as long as its benchmark does.
final class RunningClients: Sendable {
    private let tasks = Mutex<[Task<Void, Never>]>([])

    func start(_ client: PostgresClient) { tasks.withLock { $0.append(Task { await client.run() }) } }

    func stopAll() { tasks.withLock { tasks in tasks.forEach { $0.cancel() }; tasks = [] } }
}

/// What a pair benchmark runs against: a store or a naive baseline, seeded with funded PINs.
struct Seeded<Ledger: Sendable>: Sendable {
    let ledger: Ledger
    let pins: [String]
}

/// Teardown hooks take no argument, so the stores a setup opened are kept here to be closed.
final class OpenStores: Sendable {
    private let stores = Mutex<[any LedgerStore]>([])

    func add(_ store: any LedgerStore) { stores.withLock { $0.append(store) } }

    func closeAll() async {
        let closing = stores.withLock { stores in defer { stores = [] }; return stores }
        for store in closing { await store.close() }
    }
}
