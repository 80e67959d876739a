import CThreadSlice
import CoreMetrics
import Dispatch
import Foundation
import Synchronization

/// Group commit: operations append their rows in decision order and wait; one writer thread
/// takes everything pending, makes it durable in one transaction (one fsync), then wakes every
/// operation it covered. Throughput therefore does not pay one fsync per operation, and nothing
/// is acknowledged before it is on disk.
///
/// Under moderate load the writer also holds a small group back for a moment (`Gathering`).
final class GroupCommit: Sendable {
    /// Each write has a fixed cost besides its rows: the fdatasync's kernel path and the disk's
    /// notification (a VM exit on these machines), the writer's wake-ups, one `sendmmsg` of
    /// replies. Writing as soon as the previous write is done made that cost most of the writer's
    /// at moderate load: at half the PAP peak (48k/s) writes came every 0.3 ms with some fifteen
    /// rows, and the writer spent about 150 µs of CPU on each; on two cores shared with the NAS
    /// side that CPU is what the tail latency queues for. So a group smaller than `rows` waits
    /// until `windowNanoseconds` after the previous write began, or until it has `rows` rows. In
    /// trials at that rate the server's CPU per request fell from 21-23 µs to 16-19 µs (issue 4's
    /// notes). Deep loads fill `rows` at once and never wait, and a write of fewer than
    /// `busyRows` rows says nobody else is writing: a lone client's next operation is not held
    /// back. Clients that wait for each answer before asking again do pay: at 64 in flight a
    /// group rarely reaches 64 rows and waits out the window (the benchmark's PAP at 64 in
    /// flight went from 0.90x to 0.81x FreeRADIUS `files`).
    enum Gathering {
        static let windowNanoseconds: UInt64 = 1_000_000
        static let rows = 64
        static let busyRows = 4
    }

    private struct State {
        var pending: [JournalRecord] = []
        /// Tickets: the count of appends that carried rows; an operation waits for its own.
        var appended: UInt64 = 0
        var durable: UInt64 = 0
        var waiters: [(ticket: UInt64, waiter: Waiter)] = []
        var failure: LedgerError?
        var closing = false
        /// The writer was signalled and has not yet taken what is pending.
        var awake = false
        /// The writer holds a small group back and wants to hear when it has grown.
        var gathering = false
    }

    /// Who is told when a ticket is durable: a suspended task, or (for callers that answer from
    /// their own event loop, without a task per request) a callback run on the writer thread.
    enum Waiter {
        case task(CheckedContinuation<Void, any Error>)
        case callback(@Sendable (LedgerError?, DurableRound) -> Void)

        func resume(_ failure: LedgerError?, in round: DurableRound) {
            switch self {
            case .task(let continuation):
                if let failure { continuation.resume(throwing: failure) } else { continuation.resume() }
            case .callback(let callback):
                callback(failure, round)
            }
        }
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    private let grown = DispatchSemaphore(value: 0)
    private let flush: @Sendable ([JournalRecord]) throws -> Void
    /// Each group's write, its sync included: every reply of the group waits this long, so a
    /// latency tail that is the disk's shows here. The disks of the VMs Ratel was measured on
    /// stall now and then: a lone process's 4 KiB write and fdatasync once took 28 ms in a
    /// minute, and the ledger's own writes at times 50 to 200 ms, the checkpointer's with them.
    private let writeDuration = Timer(label: "ratel_ledger_write_duration_seconds", preferredDisplayUnit: .seconds)

    init(name: String, flush: @escaping @Sendable ([JournalRecord]) throws -> Void) {
        self.flush = flush
        let thread = Thread { [self] in
            _ = ratel_name_this_thread(name)
            run()
        }
        thread.start()
    }

    /// Queues rows; returns the ticket to wait for. Call it while holding the lock that ordered
    /// the decision, so rows reach the disk in decision order. With `wakeWriter` false the rows
    /// wait for the next wake-up (a wait for their ticket, or anyone else's rows): a caller
    /// deciding a batch of requests gets them written in one transaction instead of one each.
    func append(_ records: [JournalRecord], wakeWriter: Bool = true) -> UInt64 {
        state.withLock { state in
            guard !records.isEmpty else { return state.appended }
            state.pending.append(contentsOf: records)
            state.appended += 1
            if wakeWriter { wakeIfSleeping(&state) }
            if state.gathering, state.pending.count >= Gathering.rows { stopGathering(&state) }
            return state.appended
        }
    }

    var hasFailed: Bool { state.withLock { $0.failure != nil } }

    /// The ticket that covers everything appended so far, if some of it is not durable yet.
    func undurableTicket() -> UInt64? {
        state.withLock { state in state.appended > state.durable ? state.appended : nil }
    }

    private func stopGathering(_ state: inout State) {
        state.gathering = false
        grown.signal()
    }

    private func wakeIfSleeping(_ state: inout State) {
        guard !state.awake else { return }
        state.awake = true
        wake.signal()
    }

    func waitDurable(_ ticket: UInt64) async throws(LedgerError) {
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                whenDurable(ticket, .task(continuation))
            }
        } catch let error as LedgerError {
            throw error
        } catch {
            throw .storage("\(error)")
        }
    }

    /// Resumes `waiter` once `ticket` is durable (at once if it already is), or with the failure.
    func whenDurable(_ ticket: UInt64, _ waiter: Waiter) {
        let outcome: LedgerError?? = state.withLock { state in
            if let failure = state.failure { return .some(failure) }
            if state.durable >= ticket { return .some(nil) }
            state.waiters.append((ticket, waiter))
            wakeIfSleeping(&state)
            return nil
        }
        if let outcome { DurableRound.run { waiter.resume(outcome, in: $0) } }
    }

    /// Writes what is pending and stops the writer.
    func close() {
        state.withLock { state in
            state.closing = true
            state.awake = true
            if state.gathering { stopGathering(&state) }
        }
        wake.signal()
        stopped.wait()
    }

    /// Waits until `deadline` (uptime nanoseconds) unless the pending group is, or grows, large
    /// enough, or the journal closes.
    private func gather(until deadline: UInt64) {
        guard DispatchTime.now().uptimeNanoseconds < deadline else { return }
        let waits = state.withLock { state in
            guard !state.closing, state.pending.count < Gathering.rows else { return false }
            state.gathering = true
            return true
        }
        guard waits, grown.wait(timeout: DispatchTime(uptimeNanoseconds: deadline)) == .timedOut else { return }
        // A signal sent between the timeout and this lock is still owed: take it, or the next
        // gathering would end at once.
        let signalled = state.withLock { state in
            defer { state.gathering = false }
            return !state.gathering
        }
        if signalled { grown.wait() }
    }

    private func run() {
        // Every reply of a group waits for this thread: it should not also wait for a CPU for a
        // whole default slice each time it wakes (in trials its run-queue wait fell by a fifth).
        _ = ratel_request_shortest_slices()
        var previous: (startedAt: UInt64, rows: Int)?
        while true {
            wake.wait()
            if let previous, previous.rows >= Gathering.busyRows {
                gather(until: previous.startedAt &+ Gathering.windowNanoseconds)
            }
            let (records, upTo, closing) = state.withLock { state in
                defer {
                    state.pending = []
                    state.awake = false
                }
                return (state.pending, state.appended, state.closing)
            }
            if !records.isEmpty {
                let startedAt = DispatchTime.now().uptimeNanoseconds
                previous = (startedAt, records.count)
                do {
                    try flush(records)
                    writeDuration.recordNanoseconds(DispatchTime.now().uptimeNanoseconds - startedAt)
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
            DurableRound.run { round in
                for (_, waiter) in ready { waiter.resume(nil, in: round) }
            }
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
        DurableRound.run { round in
            for (_, waiter) in waiters { waiter.resume(error, in: round) }
        }
    }
}

/// The callbacks one durable write wakes, run one after another on the writer's thread. What a
/// callback leaves to the end of the round runs once, after all of them: a listener whose every
/// slice of requests was a callback of its own sent each slice's replies in a `sendmmsg` of its
/// own, some twenty of them per write at the PAP peak, where one does.
public final class DurableRound {
    private var endings: [(owner: ObjectIdentifier, body: () -> Void)] = []

    private init() {}

    /// Runs `callbacks` as one round, then what they left to its end.
    static func run(_ callbacks: (DurableRound) -> Void) {
        let round = DurableRound()
        callbacks(round)
        for ending in round.endings { ending.body() }
    }

    /// Runs `body` when the round's callbacks have all run; of the bodies one `owner` leaves, the first.
    public func atEnd(of owner: AnyObject, _ body: @escaping () -> Void) {
        let id = ObjectIdentifier(owner)
        guard !endings.contains(where: { $0.owner == id }) else { return }
        endings.append((id, body))
    }
}
