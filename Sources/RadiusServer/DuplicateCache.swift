import DequeModule
import Synchronization
import RadiusProtocol

/// RFC 5080 section 2.2.2: a retransmitted request (same socket, source, Identifier and Request
/// Authenticator) gets the byte-identical reply without being processed again; one still being
/// processed is dropped. A request with the same key but another authenticator is a new request.
/// Only requests that passed their authenticity checks reach the cache.
public final class DuplicateCache: Sendable {
    /// Plain values only: hundreds of thousands of keys are hashed, copied and dropped under the
    /// lock every request takes, and an address held as an array cost an allocation each (their
    /// release, when a sweep dropped a backlog, stalled every request for a tenth of a second).
    struct Key: Hashable {
        let listener: Listener
        let host: SourceHost
        let port: Int
        let identifier: UInt8
    }

    /// A Request Authenticator by value: a slice of the request kept its whole datagram alive,
    /// and cost a retain and a release each time an entry was copied or replaced.
    struct Authenticator: Equatable {
        let high: UInt64
        let low: UInt64

        /// From the packet's 16 octets (the frame decoder checked there are 16).
        init(_ octets: ArraySlice<UInt8>) {
            var (high, low): (UInt64, UInt64) = (0, 0)
            for (index, octet) in octets.prefix(16).enumerated() {
                if index < 8 { high = high << 8 | UInt64(octet) } else { low = low << 8 | UInt64(octet) }
            }
            (self.high, self.low) = (high, low)
        }
    }

    struct Entry {
        var authenticator: Authenticator
        /// nil while the request is being processed.
        var reply: [UInt8]?
        var expires: UInt64 = 0
        /// The expiry under which the key waits in the expiry queue, if it does: a key is
        /// queued at most once, so the queue holds at most one item per key.
        var queuedAt: UInt64?
    }

    public enum Verdict: Equatable {
        case new
        case inProgress
        case resend([UInt8])
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        /// Answered keys in the order they expire, to prune without scanning. A key answered
        /// again before its item comes up keeps its one item, which is moved to the back when
        /// it comes up: a source that reuses its Identifiers (every busy NAS) would otherwise
        /// queue an item per request, the request rate times the lifetime (700,000 items at
        /// the benchmark's peak), copied and faulted in each time the queue doubled.
        var expiryQueue = Deque<(key: Key, expires: UInt64)>()
    }

    private let state = Mutex(State())
    private let lifetimeNanoseconds: UInt64

    public init(lifetimeSeconds: Int) {
        lifetimeNanoseconds = UInt64(max(1, lifetimeSeconds)) * 1_000_000_000
    }

    /// Registers the request as in progress unless it is a duplicate.
    func arrive(_ key: Key, authenticator: Authenticator, now: UInt64) -> Verdict {
        state.withLock { state in
            prune(&state, now: now)
            // Through the entry's slot: one hash of the key where a look-up and a store took two.
            return Self.arrive(&state.entries[key], authenticator: authenticator, now: now)
        }
    }

    private static func arrive(_ slot: inout Entry?, authenticator: Authenticator, now: UInt64) -> Verdict {
        if let known = slot, known.authenticator == authenticator {
            guard let reply = known.reply else { return .inProgress }
            if known.expires > now { return .resend(reply) }
        }
        slot = Entry(authenticator: authenticator, reply: nil, queuedAt: slot?.queuedAt)
        return .new
    }

    /// Records the reply; with no reply (nothing was made durable) the entry goes, so a retry is processed.
    func answer(_ key: Key, authenticator: Authenticator, reply: [UInt8]?, now: UInt64) {
        state.withLock { state in
            let expires = now + lifetimeNanoseconds
            let queue = Self.answer(&state.entries[key], authenticator: authenticator, reply: reply, expires: expires)
            if queue { state.expiryQueue.append((key, expires)) }
        }
    }

    /// Says whether the key must join the expiry queue.
    private static func answer(_ slot: inout Entry?, authenticator: Authenticator, reply: [UInt8]?, expires: UInt64) -> Bool {
        guard let entry = slot, entry.reply == nil, entry.authenticator == authenticator else { return false }
        guard let reply else {
            slot = nil  // its queued item, if any, is dropped when it comes up
            return false
        }
        let queue = entry.queuedAt == nil
        slot?.reply = reply
        slot?.expires = expires
        if queue { slot?.queuedAt = expires }
        return queue
    }

    /// Items waiting in the expiry queue (the metrics' `ratel_radius_duplicate_cache_items`): one
    /// per remembered key, plus, until they come up, those of entries dropped unanswered.
    var queuedCount: Int { state.withLock { $0.expiryQueue.count } }

    private func prune(_ state: inout State, now: UInt64) {
        while let (key, expires) = state.expiryQueue.first, expires <= now {
            state.expiryQueue.removeFirst()
            // An item whose entry went (or was replaced after going) is not the key's item.
            guard var entry = state.entries[key], entry.queuedAt == expires else { continue }
            if entry.reply == nil {
                entry.queuedAt = nil  // in progress again; its answer queues it anew
                state.entries[key] = entry
            } else if entry.expires <= now {
                state.entries[key] = nil
            } else {
                entry.queuedAt = entry.expires
                state.entries[key] = entry
                state.expiryQueue.append((key, entry.expires))
            }
        }
    }
}
