import Benchmark
import Foundation
import RatingEngine

// Figures for the README: `make bench` from the repository root. Each suite pairs Ratel's code
// with a baseline measured in the same run, because absolute times drift on shared machines.

/// The shipped worst-case plan: 316,867 prefixes plus the retail time rules in Europe/Sofia.
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let fullPlanPath = repositoryRoot + "/ratesheets/full/plan.toml"
let fullDeckPath = repositoryRoot + "/ratesheets/full/full.csv.gz"

struct Workload: @unchecked Sendable {
    let plan: TariffPlan
    let numbers: [DialledNumber]
    let numberTexts: [String]
    let starts: [Int64]
    let durations: [Int64]
    let budgets: [Int64]
    let naive: [String: Int32]

    static let count = 1 << 16

    /// Dialled numbers drawn from the whole deck: a deck prefix plus random digits, 12-15 digits in all.
    static func make() -> Workload {
        guard let plan = try? PlanLoader.load(path: fullPlanPath) else { fatalError("cannot load \(fullPlanPath)") }
        let deck = plan.decks[plan.defaultDeckIndex]
        var random = SystemRandomNumberGenerator()
        var texts: [String] = []
        for _ in 0..<count {
            var text = deck.prefix(at: Int.random(in: 0..<deck.count, using: &random))
            let length = Int.random(in: max(12, text.count)...15, using: &random)
            while text.count < length { text.append(Character(String(Int.random(in: 0...9, using: &random)))) }
            texts.append(text)
        }
        let numbers = texts.compactMap { try? DialledNumber($0) }
        // Starts spread over 2026, so weekends, nights, holidays and both DST changes all occur.
        let yearStart: Int64 = 1_767_225_600
        let starts = (0..<count).map { _ in yearStart + Int64.random(in: 0..<365 * 86_400, using: &random) }
        let durations = (0..<count).map { _ in Int64.random(in: 1...1_800, using: &random) }
        let budgets = (0..<count).map { _ in Int64.random(in: 0...20_000_000, using: &random) }
        var naive: [String: Int32] = [:]
        naive.reserveCapacity(deck.count)
        for row in 0..<deck.count { naive[deck.prefix(at: row)] = Int32(row) }
        return Workload(plan: plan, numbers: numbers, numberTexts: texts, starts: starts, durations: durations,
                        budgets: budgets, naive: naive)
    }

    /// The naive longest-prefix match several billing engines use: a hash probe per prefix length, longest first.
    @inline(never)
    func naiveLookup(_ text: String) -> Int32 {
        var length = text.utf8.count
        while length > 0 {
            if let row = naive[String(text.utf8.prefix(length))!] { return row }
            length -= 1
        }
        return -1
    }
}

func residentBytes() -> Int {
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = statm.split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
}

nonisolated(unsafe) var workload: Workload?

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.throughput, .wallClock], warmupIterations: 1,
                                           maxDuration: .seconds(3), maxIterations: 50)
    func shared() -> Workload {
        if let workload { return workload }
        let made = Workload.make()
        workload = made
        return made
    }
    let mask = Workload.count - 1

    Benchmark("LPM lookup, trie (317k deck)", configuration: .init(scalingFactor: .mega)) { benchmark in
        let load = shared()
        let deck = load.plan.decks[load.plan.defaultDeckIndex]
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            blackHole(deck.longestMatch(load.numbers[index & mask]))
        }
    }

    Benchmark("LPM lookup, naive Dictionary baseline (317k deck)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let load = shared()
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            blackHole(load.naiveLookup(load.numberTexts[index & mask]))
        }
    }

    Benchmark("Full call rating (317k deck, rules, DST, split)", configuration: .init(scalingFactor: .mega)) { benchmark in
        let load = shared()
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            let slot = index & mask
            blackHole(try? load.plan.charge(load.numbers[slot], start: load.starts[slot], durationSeconds: load.durations[slot]))
        }
    }

    func maxDuration(_ name: String, budget: @escaping @Sendable (Workload, Int) -> Int64) {
        Benchmark(name, configuration: .init(scalingFactor: .kilo)) { benchmark in
            let load = shared()
            benchmark.startMeasurement()
            for index in benchmark.scaledIterations {
                let slot = index & mask
                blackHole(try? load.plan.maxDuration(load.numbers[slot], start: load.starts[slot], budgetMicros: budget(load, slot)))
            }
        }
    }
    maxDuration("Max duration for a budget (317k deck, rules, DST, split)") { load, slot in load.budgets[slot] }
    // The usual prepaid call: the balance pays for the longest call the plan allows.
    maxDuration("Max duration, budget above the plan's cap (317k deck, rules, DST, split)") { _, _ in 1_000_000_000_000 }

    Benchmark("Deck load and trie build, 317k-row CSV",
              configuration: .init(metrics: [.wallClock], maxDuration: .seconds(10), maxIterations: 5)) { benchmark in
        // The shipped deck is gzip-compressed; time the plain CSV a user would edit.
        let csvPath = FileManager.default.temporaryDirectory.appendingPathComponent("ratel-bench-full.csv").path
        if !FileManager.default.fileExists(atPath: csvPath) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "gzip -dc '\(fullDeckPath)' > '\(csvPath)'"]
            try? process.run()
            process.waitUntilExit()
        }
        benchmark.startMeasurement()
        let deck = try? PlanLoader.loadDeck(path: csvPath)
        benchmark.stopMeasurement()
        blackHole(deck)
    }

    // Each benchmark runs in a process of its own, so the growth of the resident set across one
    // load is the deck's footprint plus whatever parse buffers the allocator keeps: an upper bound.
    Benchmark("Deck resident memory, 317k-row deck",
              configuration: .init(metrics: [.custom("resident MiB", polarity: .prefersSmaller)],
                                   warmupIterations: 0, maxIterations: 1)) { benchmark in
        let before = residentBytes()
        let deck = try? PlanLoader.loadDeck(path: fullDeckPath)
        let after = residentBytes()
        benchmark.measurement(.custom("resident MiB", polarity: .prefersSmaller), (after - before) >> 20)
        blackHole(deck)
    }
}
