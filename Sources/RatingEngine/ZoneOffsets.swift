import Foundation

/// The UTC offsets of one IANA time zone as a sorted table of transitions, built once per plan
/// from the system's time-zone data so that rating an instant is a binary search, not a call into
/// Foundation's calendar (which costs microseconds).
///
/// The table covers `coveredYears`; instants outside keep the nearest known offset, and the
/// plan loader refuses calls outside that span.
public struct ZoneOffsets: Sendable {
    public static let coveredYears = 1900..<2200
    public static let coveredSeconds: Range<Int64> = CivilDate(year: 1900, month: 1, day: 1).daysSinceEpoch * 86_400
        ..< CivilDate(year: 2200, month: 1, day: 1).daysSinceEpoch * 86_400

    public let identifier: String
    /// Offset in force before the first transition.
    private let initialOffset: Int32
    /// UTC instants (seconds since 1970) at which the offset changes, ascending.
    private let transitions: [Int64]
    /// `offsets[i]` is in force from `transitions[i]` until the next transition.
    private let offsets: [Int32]

    /// Reads the zone from the system's time-zone data; nil when the identifier is unknown.
    public init?(identifier: String) {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        self.identifier = identifier
        let start = Date(timeIntervalSince1970: TimeInterval(ZoneOffsets.coveredSeconds.lowerBound))
        let end = Date(timeIntervalSince1970: TimeInterval(ZoneOffsets.coveredSeconds.upperBound))
        initialOffset = Int32(zone.secondsFromGMT(for: start))
        var transitions: [Int64] = []
        var offsets: [Int32] = []
        var cursor = start
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next < end {
            let instant = Int64(next.timeIntervalSince1970.rounded(.down))
            let offset = Int32(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant))))
            if offset != (offsets.last ?? initialOffset) {
                transitions.append(instant)
                offsets.append(offset)
            }
            cursor = Date(timeIntervalSince1970: TimeInterval(instant + 1))
        }
        self.transitions = transitions
        self.offsets = offsets
    }

    public var transitionCount: Int { transitions.count }

    /// The offset in force at `instant` and the next instant at which it changes (Int64.max if never).
    @inline(__always)
    public func offset(at instant: Int64) -> (offsetSeconds: Int64, nextChange: Int64) {
        transitions.withUnsafeBufferPointer { table in
            // First index whose transition is after `instant`.
            var low = 0
            var high = table.count
            while low < high {
                let middle = (low + high) >> 1
                if table[middle] <= instant { low = middle + 1 } else { high = middle }
            }
            let offset = low == 0 ? initialOffset : offsets[low - 1]
            let next = low < table.count ? table[low] : Int64.max
            return (Int64(offset), next)
        }
    }

    /// The UTC instant of a local wall-clock time. Where clocks fall back the earlier instant is
    /// taken; a time skipped when clocks spring forward does not exist and gives nil.
    public func instant(ofLocal local: Int64) -> Int64? {
        var candidates = Set<Int64>([Int64(initialOffset)])
        for offset in offsets { candidates.insert(Int64(offset)) }
        return candidates.map { local - $0 }.filter { offset(at: $0).offsetSeconds == local - $0 }.min()
    }
}

/// A proleptic Gregorian date, converted to and from days since 1970-01-01 with Howard Hinnant's
/// integer algorithms (no calendar objects on the rating path).
public struct CivilDate: Hashable, Sendable {
    public var year: Int64
    public var month: Int64
    public var day: Int64

    public init(year: Int64, month: Int64, day: Int64) {
        self.year = year
        self.month = month
        self.day = day
    }

    public init(daysSinceEpoch days: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    public var daysSinceEpoch: Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    public static func daysInMonth(_ month: Int64, year: Int64?) -> Int64 {
        switch month {
        case 2:
            guard let year else { return 29 }
            return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// 0 = Monday ... 6 = Sunday. 1970-01-01 was a Thursday.
    public static func weekday(daysSinceEpoch days: Int64) -> Int {
        Int(((days + 3) % 7 + 7) % 7)
    }
}
