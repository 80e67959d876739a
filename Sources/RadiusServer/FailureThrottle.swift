import Synchronization

/// Brute-force guard: after `maxFailures` failed authentications within `windowSeconds` for one
/// PIN or from one caller ID, further attempts are refused unchecked for `lockoutSeconds`, so a
/// guessing client learns nothing from them.
public final class FailureThrottle: Sendable {
    public struct Settings: Sendable, Equatable {
        public var maxFailures: Int
        public var windowSeconds: Int64
        public var lockoutSeconds: Int64

        public init(maxFailures: Int = 5, windowSeconds: Int64 = 300, lockoutSeconds: Int64 = 900) {
            self.maxFailures = maxFailures
            self.windowSeconds = windowSeconds
            self.lockoutSeconds = lockoutSeconds
        }
    }

    private struct Record {
        var failures: Int
        var windowStart: Int64
        var lockedUntil: Int64
    }

    private let settings: Settings
    private let records = Mutex<[String: Record]>([:])
    /// Stale records are dropped when the table grows past this, so a scan of random PINs cannot grow it forever.
    private let pruneThreshold = 100_000

    public init(_ settings: Settings) { self.settings = settings }

    func isLocked(_ keys: [String], now: Int64) -> Bool {
        records.withLock { records in keys.contains { (records[$0]?.lockedUntil ?? 0) > now } }
    }

    func fail(_ keys: [String], now: Int64) {
        guard settings.maxFailures > 0 else { return }
        records.withLock { records in
            if records.count > pruneThreshold {
                records = records.filter { $0.value.lockedUntil > now || $0.value.windowStart + settings.windowSeconds > now }
            }
            for key in keys {
                var record = records[key] ?? Record(failures: 0, windowStart: now, lockedUntil: 0)
                if record.windowStart + settings.windowSeconds <= now { record = Record(failures: 0, windowStart: now, lockedUntil: 0) }
                record.failures += 1
                if record.failures >= settings.maxFailures { record.lockedUntil = now + settings.lockoutSeconds }
                records[key] = record
            }
        }
    }

    func succeed(_ keys: [String]) {
        records.withLock { records in for key in keys { records[key] = nil } }
    }
}
