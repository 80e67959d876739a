import Benchmark
import Foundation
import GRDB
import Ledger
import RatingEngine

// A million cards. Issuing a batch (with its printable CSV) is set against the floor of writing as
// many rows through one prepared INSERT; opening a ledger that holds them is set against the floor
// of reading its account rows. Openings run in a child process, so the resident memory they report
// is the opening's own, not the benchmark's that generated the ledger. The same ledger with half a
// million closed calls is opened twice: while they closed within the hour (kept whole in memory) and
// once they are settled (their number, key and closing time only); against the opening without them,
// the two give what a closed call costs in memory either way.

let millionCards = 1_000_000

var batchConfiguration: Benchmark.Configuration { Benchmark.Configuration(
    metrics: [.wallClock], timeUnits: .milliseconds, warmupIterations: 0, scalingFactor: .one,
    maxDuration: .seconds(120), maxIterations: 3) }

let peakResident = BenchmarkMetric.custom("peak resident memory (MiB)", polarity: .prefersSmaller, useScalingFactor: false)

var startupConfiguration: Benchmark.Configuration { Benchmark.Configuration(
    metrics: [.wallClock, peakResident], timeUnits: .milliseconds, warmupIterations: 1, scalingFactor: .one,
    maxDuration: .seconds(60), maxIterations: 5) }

func batchBenchmarks() {
    Benchmark("SQLite: 1M rows through one prepared INSERT (baseline)", configuration: batchConfiguration) { benchmark in
        let directory = scratchDirectory("floor")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        benchmark.startMeasurement()
        try insertFloor(path: directory + "/floor.sqlite", rows: millionCards)
        benchmark.stopMeasurement()
    }

    Benchmark("SQLite store: generate 1M cards and their printable CSV", configuration: batchConfiguration) { benchmark in
        let directory = scratchDirectory("batch")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteLedgerStore.open(directory: directory, now: benchmarkNow)
        benchmark.startMeasurement()
        let (_, cards) = try await store.generate(BatchSpec(count: millionCards, faceValue: Money(micros: 5_000_000, currency: eur)),
                                                  context: ChangeContext(actor: "bench", at: benchmarkNow), progress: nil)
        blackHole(PrintableExport.csv(cards).utf8.count)
        benchmark.stopMeasurement()
        await store.close()
    }

    startupBenchmark("SQLite: read 1M account rows, child process (baseline)", child: .readRows)
    startupBenchmark("SQLite store: open a ledger of 1M accounts, child process", child: .openStore)
    startupBenchmark("SQLite store: open 1M accounts and 500k calls closed within the hour, child process",
                     child: .openStoreCallsWhole, closedCalls: halfMillionCalls)
    startupBenchmark("SQLite store: open 1M accounts and 500k calls closed over an hour ago, child process",
                     child: .openStoreCallsSettled, closedCalls: halfMillionCalls)
}

let halfMillionCalls = 500_000

private func startupBenchmark(_ name: String, child: StartupChild, closedCalls: Int = 0) {
    Benchmark(name, configuration: startupConfiguration) { (benchmark: Benchmark, directory: String) in
        benchmark.startMeasurement()
        let peakKiB = try child.spawn(directory: directory)
        benchmark.stopMeasurement()
        benchmark.measurement(peakResident, peakKiB / 1024)
    } setup: {
        let directory = scratchDirectory("million")
        let store = try SQLiteLedgerStore.open(directory: directory, now: benchmarkNow)
        _ = try await store.generate(BatchSpec(count: millionCards, faceValue: Money(micros: 5_000_000, currency: eur)),
                                     context: ChangeContext(actor: "bench", at: benchmarkNow), progress: nil)
        await store.close()
        if closedCalls > 0 { try insertClosedCalls(closedCalls, accounts: millionCards, path: directory + "/ledger.sqlite") }
        return directory
    }
}

/// Committed calls as a RADIUS Stop leaves them (session key, number, destination and call record
/// of the usual sizes), closed over the 50 minutes before `benchmarkNow`. Written as rows: only
/// how the store loads them is measured.
private func insertClosedCalls(_ count: Int, accounts: Int, path: String) throws {
    let queue = try DatabaseQueue(path: path)
    try queue.write { db in
        let insert = try db.makeStatement(sql: "INSERT INTO reservations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        for index in 0..<count {
            let closedAt = benchmarkNow - 3_000 + Int64(index * 3_000 / count)
            let details = #"{"status":"stop","start":\#(closedAt - 95),"duration":95,"billed_seconds":120,"prefix":"35988","#
                + #""rule":"peak","rated_micros":400000,"session_id":"4f1c2a9e-\#(index)","terminate_cause":1}"#
            try insert.execute(arguments: [
                index + 1, "gw-sofia-1/4f1c2a9e-\(index)", index % accounts + 1, 1_000_000, "gw-sofia-1", "359888123456",
                "Bulgaria Mobile A1", closedAt - 100, closedAt + 3_500, "committed", 400_000, closedAt, details, index + 1,
            ])
        }
    }
}

/// The least a batch writer can do: a random PIN and a sealed-size secret per row, one prepared
/// INSERT into a table with a unique PIN index, one transaction. Its PINs need not be random,
/// only scattered like PINs over the index, so a multiplicative hash of the row number (a Weyl
/// sequence modulo the PIN range) keeps the floor free of the cost of drawing them.
private func insertFloor(path: String, rows: Int) throws {
    var configuration = Configuration()
    configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
    let queue = try DatabaseQueue(path: path, configuration: configuration)
    try queue.write { db in
        try db.execute(sql: "CREATE TABLE cards (id INTEGER PRIMARY KEY, pin TEXT NOT NULL UNIQUE, secret BLOB NOT NULL)")
        let insert = try db.makeStatement(sql: "INSERT OR IGNORE INTO cards (id, pin, secret) VALUES (?, ?, ?)")
        for id in 0..<rows {
            let scattered = UInt64(id) &* 0x9E37_79B9_7F4A_7C15
            let pin = String(scattered % 900_000_000_000 + 100_000_000_000)
            let secret = withUnsafeBytes(of: (scattered, scattered, scattered, scattered, scattered)) { Data($0.prefix(36)) }
            try insert.execute(arguments: [id, pin, secret])
        }
    }
}

/// What a startup child process does, chosen by the environment it is spawned with.
enum StartupChild: String {
    case readRows = "read-rows"
    case openStore = "open-store"
    case openStoreCallsWhole = "open-store-calls-whole"
    case openStoreCallsSettled = "open-store-calls-settled"

    private static let modeVariable = "RATEL_BENCH_STARTUP_CHILD"
    private static let directoryVariable = "RATEL_BENCH_STARTUP_DIRECTORY"
    private static let reportVariable = "RATEL_BENCH_STARTUP_REPORT"

    /// In a spawned child, does the child's work and exits; in the benchmark itself, returns.
    static func runIfChild() {
        let environment = ProcessInfo.processInfo.environment
        guard let mode = environment[modeVariable].flatMap(StartupChild.init(rawValue:)),
              let directory = environment[directoryVariable], let report = environment[reportVariable] else { return }
        do {
            try mode.work(directory: directory)
            // VmHWM belongs to this image's address space; getrusage's maxrss would carry over the
            // benchmark's own peak across exec.
            let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else {
                throw StartupChildFailure(message: "no VmHWM in /proc/self/status")
            }
            try String(line.dropFirst(6).filter(\.isNumber)).write(toFile: report, atomically: true, encoding: .utf8)
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("startup child \(mode.rawValue): \(error)\n".utf8))
            exit(1)
        }
    }

    private func work(directory: String) throws {
        switch self {
        case .openStore:
            _ = try SQLiteLedgerStore.open(directory: directory, now: benchmarkNow)
        case .openStoreCallsWhole:
            _ = try SQLiteLedgerStore.open(directory: directory, now: benchmarkNow + 60)
        case .openStoreCallsSettled:
            _ = try SQLiteLedgerStore.open(directory: directory, now: benchmarkNow + LedgerBook.wholeReservationMemorySeconds + 60)
        case .readRows:
            let queue = try DatabaseQueue(path: directory + "/ledger.sqlite")
            try queue.read { db in
                let rows = try Row.fetchCursor(db, sql: "SELECT * FROM accounts ORDER BY id")
                var seen = 0
                while let row = try rows.next() {
                    for column in 0..<row.count { seen &+= (row[column] as DatabaseValue).isNull ? 0 : 1 }
                }
                blackHole(seen)
            }
        }
    }

    /// Runs this benchmark's executable again as the child and returns the child's peak resident set in KiB.
    func spawn(directory: String) throws -> Int {
        let report = directory + "/startup-child-peak"
        var environment = ProcessInfo.processInfo.environment
        environment[Self.modeVariable] = rawValue
        environment[Self.directoryVariable] = directory
        environment[Self.reportVariable] = report
        let executable = "/proc/self/exe"
        var argv: [UnsafeMutablePointer<CChar>?] = [strdup(executable), nil]
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, nil, nil, &argv, &envp)
        guard spawned == 0 else { throw StartupChildFailure(message: "posix_spawn: errno \(spawned)") }
        var status: Int32 = 0
        guard waitpid(pid, &status, 0) == pid else { throw StartupChildFailure(message: "waitpid: errno \(errno)") }
        guard status == 0 else { throw StartupChildFailure(message: "child \(rawValue) exited with status \(status)") }
        guard let peakKiB = Int(try String(contentsOfFile: report, encoding: .utf8)) else {
            throw StartupChildFailure(message: "child \(rawValue) reported no peak")
        }
        return peakKiB
    }
}

struct StartupChildFailure: Error {
    let message: String
}
