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

    /// What failures count against: the PIN tried, and the caller's number where the NAS gives it.
    struct Subjects {
        var pin: String
        var caller: String?

        fileprivate var keys: [Key] { [.pin(pin)] + (caller.map { [.caller($0)] } ?? []) }
    }

    fileprivate enum Key: Hashable {
        case pin(String)
        case caller(String)
    }

    private let settings: Settings
    private let records = Mutex<[Key: Record]>([:])
    /// Stale records are dropped when the table grows past this, so a scan of random PINs cannot grow it forever.
    private let pruneThreshold = 100_000

    public init(_ settings: Settings) { self.settings = settings }

    // Checked and cleared on every Access-Request: with no failure on record (the usual case),
    // neither hashes a key nor allocates.
    func isLocked(_ subjects: Subjects, now: Int64) -> Bool {
        records.withLock { records in
            guard !records.isEmpty else { return false }
            if (records[.pin(subjects.pin)]?.lockedUntil ?? 0) > now { return true }
            return subjects.caller.map { (records[.caller($0)]?.lockedUntil ?? 0) > now } ?? false
        }
    }

    func fail(_ subjects: Subjects, now: Int64) {
        guard settings.maxFailures > 0 else { return }
        records.withLock { records in
            if records.count > pruneThreshold {
                records = records.filter { $0.value.lockedUntil > now || $0.value.windowStart + settings.windowSeconds > now }
            }
            for key in subjects.keys {
                var record = records[key] ?? Record(failures: 0, windowStart: now, lockedUntil: 0)
                if record.windowStart + settings.windowSeconds <= now { record = Record(failures: 0, windowStart: now, lockedUntil: 0) }
                record.failures += 1
                if record.failures >= settings.maxFailures { record.lockedUntil = now + settings.lockoutSeconds }
                records[key] = record
            }
        }
    }

    func succeed(_ subjects: Subjects) {
        records.withLock { records in
            guard !records.isEmpty else { return }
            records[.pin(subjects.pin)] = nil
            if let caller = subjects.caller { records[.caller(caller)] = nil }
        }
    }
}
