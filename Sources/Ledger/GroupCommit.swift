import Dispatch
import Foundation
import Synchronization

/// Group commit: operations append their rows in decision order and wait; one writer thread
/// takes everything pending, makes it durable in one transaction (one fsync), then wakes every
/// operation it covered. Throughput therefore does not pay one fsync per operation, and nothing
/// is acknowledged before it is on disk.
final class GroupCommit: Sendable {
    private struct State {
        var pending: [JournalRecord] = []
        /// Tickets: the count of appends that carried rows; an operation waits for its own.
        var appended: UInt64 = 0
        var durable: UInt64 = 0
        var waiters: [(ticket: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var failure: LedgerError?
        var closing = false
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    private let flush: @Sendable ([JournalRecord]) throws -> Void

    init(name: String, flush: @escaping @Sendable ([JournalRecord]) throws -> Void) {
        self.flush = flush
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    /// Queues rows; returns the ticket to wait for. Call it while holding the lock that ordered
    /// the decision, so rows reach the disk in decision order.
    func append(_ records: [JournalRecord]) -> UInt64 {
        state.withLock { state in
            guard !records.isEmpty else { return state.appended }
            let wasIdle = state.pending.isEmpty
            state.pending.append(contentsOf: records)
            state.appended += 1
            if wasIdle { wake.signal() }
            return state.appended
        }
    }

    func waitDurable(_ ticket: UInt64) async throws(LedgerError) {
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, LedgerError>? = state.withLock { state in
                    if let failure = state.failure { return .failure(failure) }
                    if state.durable >= ticket { return .success(()) }
                    state.waiters.append((ticket, continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } catch let error as LedgerError {
            throw error
        } catch {
            throw .storage("\(error)")
        }
    }

    /// Writes what is pending and stops the writer.
    func close() {
        state.withLock { $0.closing = true }
        wake.signal()
        stopped.wait()
    }

    private func run() {
        while true {
            wake.wait()
            let (records, upTo, closing) = state.withLock { state in
                defer { state.pending = [] }
                return (state.pending, state.appended, state.closing)
            }
            if !records.isEmpty {
                do {
                    try flush(records)
                } catch {
                    fail(.storage("\(error)"))
                    stopped.signal()
                    return
                }
            }
            let ready = state.withLock { state in
                state.durable = upTo
                let ready = state.waiters.filter { $0.ticket <= upTo }
                state.waiters.removeAll { $0.ticket <= upTo }
                return ready
            }
            for waiter in ready { waiter.continuation.resume() }
            if closing {
                stopped.signal()
                return
            }
        }
    }

    /// After a failed write nothing later may be acknowledged: the book in memory is ahead of
    /// the disk, so the store refuses everything until it is reopened from what is stored.
    private func fail(_ error: LedgerError) {
        let waiters = state.withLock { state in
            state.failure = error
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume(throwing: error) }
    }
}
