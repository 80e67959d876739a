internal import GRDB
import CThreadSlice
import Foundation
import Logging
import Synchronization

/// Copies the write-ahead log back into the database file from a connection and a thread of its
/// own. SQLite's automatic checkpoint runs inside the commit that crosses its threshold, that is
/// on the group-commit writer: under load the log grows by tens of MB a second, so several
/// commits a second also wrote pages back and fsynced the database file while replies waited on
/// them (PAP at half the benchmark's peak: p99 7.7 and 10.0 ms that way, 3.7 and 4.6 ms with
/// this). A passive checkpoint takes no writer lock, so commits go on while it runs; the
/// writer's own automatic checkpoint stays as a backstop at `backstopPages`, for when these fail.
///
/// Copying back is not enough to keep the log small: SQLite starts it again from the top only
/// when a write begins with every frame copied back, and with commits every millisecond a
/// passive checkpoint never catches up. The log then grew to the backstop, whose checkpoint ran
/// on the writer, a 20 ms fdatasync of the database file with every reply waiting (the
/// benchmark's half-peak p99). So once the log passes `restartFrames`, checkpoints go on until
/// few frames are left, a last one copies those while the writer waits at `writers`, and the
/// next commit starts the log again.
final class WALCheckpointer: Sendable {
    static let backstopPages = 16_384
    static let restartFrames = 4_096
    static let catchUpPasses = 4
    static let framesLeftForTheWriter = 8
    private let connection: DatabaseQueue
    /// Held by the group-commit writer around each write, and by the catching-up checkpoint.
    private let writers = Mutex(())
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
            _ = ratel_name_this_thread("ratel-checkpt")
            var failures = FailureReport()
            var ticks = 0
            while stop.wait(timeout: .now() + interval) == .timedOut {
                ticks += 1
                if ticks % choreEvery == 0 { try? connection.read(chore) }
                // A failure (a full disk, an I/O error) leaves the log to the next attempt or to
                // the backstop; the log itself is durable either way, but it keeps growing, so
                // the operator hears of it.
                do {
                    var log = try copyBack()
                    if log.walFrameCount >= Self.restartFrames {
                        // Each pass copies what came in during the one before, and the writer
                        // waits only for the last few frames: their copy and the database file's
                        // fsync (random pages, so milliseconds where the log's own fsync is 0.1).
                        for _ in 0..<Self.catchUpPasses {
                            let previous = log.walFrameCount
                            log = try copyBack()
                            if log.walFrameCount - previous <= Self.framesLeftForTheWriter { break }
                        }
                        try writers.withLock { _ in _ = try copyBack() }
                    }
                } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
                    continue  // the writer's backstop checkpoint is running: nothing is wrong
                } catch {
                    failures.record(error, now: DispatchTime.now().uptimeNanoseconds)
                }
            }
            stopped.signal()
        }
        thread.start()
    }

    /// A passive checkpoint: the log's frames, and how many of them are now in the database file.
    private func copyBack() throws -> (walFrameCount: Int, checkpointedFrameCount: Int) {
        try connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
    }

    /// Runs a write of the group-commit writer; a catching-up checkpoint never overlaps one.
    func whileWriting(_ write: () throws -> Void) throws {
        try writers.withLock { _ in try write() }
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
