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
    let keys = KeySource()
    let opened = OpenStores()

    Benchmark("SQLite naive: one transaction per operation (baseline)", configuration: pairConfiguration) { (benchmark: Benchmark, fixture: Naive<NaiveSQLiteLedger>) in
        let (ledger, pins) = (fixture.ledger, fixture.pins)
        let base = keys.claim(benchmark.scaledIterations.count)
        try await drive(pairs: benchmark.scaledIterations.count) { index in
            try await ledger.pair(pin: pins[(base + index) % pins.count], key: base + index)
        }
    } setup: {
        let directory = scratchDirectory("naive")
        let store = try SQLiteLedgerStore.open(directory: directory, now: benchmarkNow)
        let pins = try await seed(store)
        await store.close()
        return Naive(ledger: try NaiveSQLiteLedger(path: directory + "/ledger.sqlite"), pins: pins)
    }

    Benchmark("SQLite store: group commit", configuration: pairConfiguration) { (benchmark: Benchmark, fixture: SeededStore) in
        let base = keys.claim(benchmark.scaledIterations.count)
        try await drive(pairs: benchmark.scaledIterations.count) { index in
            try await storePair(fixture.store, pins: fixture.pins, key: base + index)
        }
    } setup: {
        let store = try SQLiteLedgerStore.open(directory: scratchDirectory("store"), now: benchmarkNow)
        opened.add(store)
        return SeededStore(store: store, pins: try await seed(store))
    } teardown: {
        await opened.closeAll()
    }

    Benchmark("PostgreSQL naive: one transaction per operation (baseline)", configuration: pairConfiguration) { (benchmark: Benchmark, fixture: Naive<NaivePostgresLedger>) in
        let (ledger, pins) = (fixture.ledger, fixture.pins)
        let base = keys.claim(benchmark.scaledIterations.count)
        try await drive(pairs: benchmark.scaledIterations.count) { index in
            try await ledger.pair(pin: pins[(base + index) % pins.count], key: base + index)
        }
    } setup: {
        let url = try await BenchPostgres.freshDatabase("ratel_bench_naive")
        let store = try await PostgresLedgerStore.open(url: url, keyFile: scratchDirectory("pg-naive") + "/ratel.key")
        let pins = try await seed(store)
        await store.close()
        let client = BenchPostgres.client(url)
        runningClients.start(client)
        return Naive(ledger: NaivePostgresLedger(client: client), pins: pins)
    } teardown: {
        runningClients.stopAll()
    }

    Benchmark("PostgreSQL store: atomic statements", configuration: pairConfiguration) { (benchmark: Benchmark, fixture: SeededStore) in
        let base = keys.claim(benchmark.scaledIterations.count)
        try await drive(pairs: benchmark.scaledIterations.count) { index in
            try await storePair(fixture.store, pins: fixture.pins, key: base + index)
        }
    } setup: {
        let url = try await BenchPostgres.freshDatabase("ratel_bench_store")
        let store = try await PostgresLedgerStore.open(url: url, keyFile: scratchDirectory("pg-store") + "/ratel.key",
                                                       maximumConnections: postgresConnections)
        opened.add(store)
        return SeededStore(store: store, pins: try await seed(store))
    } teardown: {
        await opened.closeAll()
    }
}

let runningClients = RunningClients()

/// Runs a PostgresClient's pool for as long as its benchmark does.
final class RunningClients: Sendable {
    private let tasks = Mutex<[Task<Void, Never>]>([])

    func start(_ client: PostgresClient) { tasks.withLock { $0.append(Task { await client.run() }) } }

    func stopAll() { tasks.withLock { tasks in tasks.forEach { $0.cancel() }; tasks = [] } }
}

struct Naive<Ledger: Sendable>: Sendable {
    let ledger: Ledger
    let pins: [String]
}

struct SeededStore: Sendable {
    let store: any LedgerStore
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
