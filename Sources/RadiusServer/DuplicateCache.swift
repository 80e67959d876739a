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
        /// The source address's octets (4 or 16), packed.
        let addressHigh: UInt64
        let addressLow: UInt64
        let addressLength: UInt8
        let port: Int
        let identifier: UInt8

        init(listener: Listener, address: [UInt8], port: Int, identifier: UInt8) {
            var high: UInt64 = 0, low: UInt64 = 0
            for (index, octet) in address.prefix(16).enumerated() {
                if index < 8 { high = high << 8 | UInt64(octet) } else { low = low << 8 | UInt64(octet) }
            }
            self.listener = listener
            (addressHigh, addressLow, addressLength) = (high, low, UInt8(min(address.count, 16)))
            self.port = port
            self.identifier = identifier
        }
    }

    enum Entry {
        case inProgress(authenticator: ArraySlice<UInt8>)
        case answered(authenticator: ArraySlice<UInt8>, reply: [UInt8], expires: UInt64)
    }

    public enum Verdict: Equatable {
        case new
        case inProgress
        case resend([UInt8])
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        /// Answered keys in the order they expire, to prune without scanning.
        var expiryQueue = Deque<(key: Key, expires: UInt64)>()
    }

    private let state = Mutex(State())
    private let lifetimeNanoseconds: UInt64

    public init(lifetimeSeconds: Int) {
        lifetimeNanoseconds = UInt64(max(1, lifetimeSeconds)) * 1_000_000_000
    }

    /// Registers the request as in progress unless it is a duplicate.
    func arrive(_ key: Key, authenticator: ArraySlice<UInt8>, now: UInt64) -> Verdict {
        state.withLock { state in
            prune(&state, now: now)
            switch state.entries[key] {
            case .inProgress(let known)? where known == authenticator:
                return .inProgress
            case .answered(let known, let reply, let expires)? where known == authenticator && expires > now:
                return .resend(reply)
            default:
                state.entries[key] = .inProgress(authenticator: authenticator)
                return .new
            }
        }
    }

    /// Records the reply; with no reply (nothing was made durable) the entry goes, so a retry is processed.
    func answer(_ key: Key, authenticator: ArraySlice<UInt8>, reply: [UInt8]?, now: UInt64) {
        state.withLock { state in
            guard case .inProgress(let known)? = state.entries[key], known == authenticator else { return }
            guard let reply else {
                state.entries[key] = nil
                return
            }
            let expires = now + lifetimeNanoseconds
            state.entries[key] = .answered(authenticator: authenticator, reply: reply, expires: expires)
            state.expiryQueue.append((key, expires))
        }
    }

    private func prune(_ state: inout State, now: UInt64) {
        while let (key, expires) = state.expiryQueue.first, expires <= now {
            state.expiryQueue.removeFirst()
            if case .answered(_, _, let current)? = state.entries[key], current == expires { state.entries[key] = nil }
        }
    }
}
