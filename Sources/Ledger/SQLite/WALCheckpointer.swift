internal import GRDB
import Foundation
import Logging

/// Copies the write-ahead log back into the database file from a connection and a thread of its
/// own. SQLite's automatic checkpoint runs inside the commit that crosses its threshold, that is
/// on the group-commit writer: under load the log grows by tens of MB a second, so several
/// commits a second also wrote pages back and fsynced the database file while replies waited on
/// them (PAP at half the benchmark's peak: p99 7.7 and 10.0 ms that way, 3.7 and 4.6 ms with
/// this). A passive checkpoint takes no writer lock, so commits go on while it runs; the
/// writer's own automatic checkpoint stays as a backstop at `backstopPages`, for when these
/// cannot keep up (a log written without pause is never wholly copied back) or fail.
final class WALCheckpointer: Sendable {
    static let backstopPages = 16_384
    private let connection: DatabaseQueue
    private let stop = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)

    /// `chore` runs on this thread too, every `choreEvery` checkpoints, in a read transaction of
    /// its own; a failed one is tried again next time.
    init(path: String, interval: DispatchTimeInterval = .milliseconds(50), choreEvery: Int = 200,
         chore: @escaping @Sendable (Database) throws -> Void) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        connection = try DatabaseQueue(path: path, configuration: configuration)
        let thread = Thread { [self] in
            var failures = FailureReport()
            var ticks = 0
            while stop.wait(timeout: .now() + interval) == .timedOut {
                ticks += 1
                if ticks % choreEvery == 0 { try? connection.read(chore) }
                // A failure (a full disk, an I/O error) leaves the log to the next attempt or to
                // the backstop; the log itself is durable either way, but it keeps growing, so
                // the operator hears of it.
                do {
                    _ = try connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
                } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
                    continue  // the writer's backstop checkpoint is running: nothing is wrong
                } catch {
                    failures.record(error, now: DispatchTime.now().uptimeNanoseconds)
                }
            }
            stopped.signal()
        }
        thread.name = "ratel-ledger-checkpoint"
        thread.start()
    }

    /// Checkpoints run 20 times a second: a persistent failure is logged once a minute, with
    /// how many attempts failed since the last line.
    private struct FailureReport {
        static let logger = Logger(label: "ratel.ledger")
        static let intervalNanoseconds: UInt64 = 60_000_000_000
        var unreported = 0
        var lastReport: UInt64?

        mutating func record(_ error: any Error, now: UInt64) {
            unreported += 1
            if let lastReport, now - lastReport < Self.intervalNanoseconds { return }
            Self.logger.error("the write-ahead log could not be copied back into the database; it keeps growing until this clears",
                              metadata: ["error": "\(error)", "failed_attempts": "\(unreported)"])
            unreported = 0
            lastReport = now
        }
    }

    /// Stops after the checkpoint in progress, if any, and closes the connection.
    func close() {
        stop.signal()
        stopped.wait()
        try? connection.close()
    }
}
