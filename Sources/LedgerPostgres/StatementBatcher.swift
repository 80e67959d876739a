import Ledger
import Synchronization

/// Calls that wait for the database go to it together. Up to `writers` batches are in flight;
/// meanwhile new requests queue, and the next free writer takes them all (up to `limit`) in one
/// statement, so many calls share one transaction and one commit. A lone request is sent at
/// once: batching adds no wait when the load is light.
final class StatementBatcher<Request: Sendable>: Sendable {
    typealias Settle = @Sendable ([Request]) async throws -> [String: Reservation]

    private struct Waiting {
        let request: Request
        let continuation: CheckedContinuation<Reservation?, Never>
    }

    private struct Queue {
        var waiting: [Waiting] = []
        var writers = 0
    }

    private let queue = Mutex(Queue())
    private let writers: Int
    private let limit: Int
    private let key: @Sendable (Request) -> String
    private let settle: Settle

    init(writers: Int, limit: Int, key: @escaping @Sendable (Request) -> String, settle: @escaping Settle) {
        self.writers = writers
        self.limit = limit
        self.key = key
        self.settle = settle
    }

    /// The reservation the batch settled for `request`, or nil when the batch left it alone (a
    /// refusal, an unknown key) or failed as a whole and was rolled back. The caller then takes
    /// the single-statement path, which words the refusal or reports the error.
    func submit(_ request: Request) async -> Reservation? {
        await withCheckedContinuation { continuation in
            let startsWriter = queue.withLock { queue in
                queue.waiting.append(Waiting(request: request, continuation: continuation))
                guard queue.writers < writers else { return false }
                queue.writers += 1
                return true
            }
            if startsWriter { Task { await self.drain() } }
        }
    }

    private func drain() async {
        while true {
            let batch = queue.withLock { queue in
                let count = min(limit, queue.waiting.count)
                if count == 0 { queue.writers -= 1 }
                defer { queue.waiting.removeFirst(count) }
                return Array(queue.waiting.prefix(count))
            }
            guard !batch.isEmpty else { return }
            let settled = (try? await settle(batch.map(\.request))) ?? [:]
            for waiting in batch { waiting.continuation.resume(returning: settled[key(waiting.request)]) }
        }
    }
}

/// A commit as the batch sends it.
struct CommitRequest: Sendable {
    let key: String
    let cost: Int64
    let details: String
    let at: Int64
}
