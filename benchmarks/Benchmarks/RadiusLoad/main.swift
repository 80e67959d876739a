import Foundation
import Glibc
import RadiusBenchSupport

// The load generator of benchmarks/radius-compare.sh: the same requests, users and pacing for
// FreeRADIUS and for Ratel. Prints one JSON object per run.
//
//   RadiusLoad auth|acct --port P --secret S --users FILE [--first N] [--count N]
//              [--concurrency C] [--rate R] [--seconds T] [--sessions PREFIX]

func arguments() throws -> LoadRun.Options {
    var list = CommandLine.arguments.dropFirst()
    guard let kindName = list.popFirst(), let kind = LoadRun.Kind(rawValue: kindName) else {
        throw LoadError("usage: RadiusLoad auth|acct --port P --secret S --users FILE [options]")
    }
    let values = try flagValues(list)
    func integer(_ name: String, _ fallback: Int? = nil) throws -> Int {
        guard let text = values[name] else {
            guard let fallback else { throw LoadError("--\(name) is required") }
            return fallback
        }
        guard let value = Int(text), value >= 0 else { throw LoadError("--\(name): not a number: \(text)") }
        return value
    }
    guard let usersPath = values["users"], let secret = values["secret"] else { throw LoadError("--users and --secret are required") }
    let users = try Users(csv: usersPath)
    return LoadRun.Options(
        kind: kind, port: UInt16(truncatingIfNeeded: try integer("port")), secret: Array(secret.utf8), users: users,
        firstUser: try integer("first", 0), count: try integer("count", users.count), concurrency: max(1, try integer("concurrency", 64)),
        rate: values["rate"] == nil ? nil : try integer("rate"), seconds: Double(try integer("seconds", 10)),
        sessionPrefix: values["sessions"] ?? "load")
}

func percentile(_ sorted: [UInt32], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]) / 1000
}

/// How long this process's threads have waited, runnable, for a CPU (Linux schedstat, second
/// field, nanoseconds), in seconds: on two cores shared with the server, the generator's own
/// waits are part of every latency it measures. Nil where schedstat is not available. The generator
/// runs on this one thread, so no thread ends (taking its share with it) between two readings.
func runQueueWaitSeconds() -> Double? {
    guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return nil }
    var nanoseconds: UInt64 = 0
    for task in tasks {
        guard let text = try? String(contentsOfFile: "/proc/self/task/\(task)/schedstat", encoding: .utf8) else { continue }
        let fields = text.split(separator: " ")
        guard fields.count >= 2, let waited = UInt64(fields[1]) else { return nil }
        nanoseconds += waited
    }
    return Double(nanoseconds) / 1e9
}

/// This process's CPU time so far, user and system, in seconds.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

do {
    let options = try arguments()
    let (cpuBefore, waitBefore) = (cpuSeconds(), runQueueWaitSeconds())
    let result = try LoadRun(options).run()
    let cpu = cpuSeconds() - cpuBefore
    let waited = runQueueWaitSeconds().flatMap { after in waitBefore.map { after - $0 } }
    let sorted = result.latenciesMicros.sorted()
    let perSecond = Double(result.completed) / max(result.elapsed, 0.001)
    func fixed(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
    // Only when every reply carried its arrival stamp: percentiles of some replies would mislead.
    let arrivals = result.arrivalLatenciesMicros.sorted()
    let arrivalFigures = arrivals.count == sorted.count && !arrivals.isEmpty
        ? ",\"arrival_p50_ms\":\(fixed(percentile(arrivals, 0.50))),\"arrival_p99_ms\":\(fixed(percentile(arrivals, 0.99))),"
            + "\"arrival_max_ms\":\(fixed(percentile(arrivals, 1.0)))"
        : ""
    print("""
        {"kind":"\(options.kind.rawValue)","completed":\(result.completed),"per_second":\(Int(perSecond.rounded())),\
        "sent":\(result.sent),"accepted":\(result.accepted),"rejected":\(result.rejected),"other":\(result.other),\
        "lost":\(result.lost),"seconds":\(fixed(result.elapsed)),"concurrency":\(options.concurrency),\
        "rate":\(options.rate.map(String.init) ?? "null"),"p50_ms":\(fixed(percentile(sorted, 0.50))),\
        "p99_ms":\(fixed(percentile(sorted, 0.99))),"max_ms":\(fixed(percentile(sorted, 1.0))),"generator_cpu_s":\(fixed(cpu))\
        \(arrivalFigures)\
        \(waited.map { ",\"generator_wait_s\":\(fixed($0))" } ?? "")}
        """)
} catch {
    printError("RadiusLoad: \(error)\n")
    exit(1)
}

/// Glibc's `stderr` is a shared mutable global that strict concurrency refuses.
func printError(_ text: String) {
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
