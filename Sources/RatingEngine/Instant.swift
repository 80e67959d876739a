/// Reads the start of a call from ISO 8601 text into seconds since 1970 (UTC).
///
/// Accepts `YYYY-MM-DDTHH:MM:SS` (a space may replace `T`) followed by `Z` or `±HH:MM`; without
/// an offset the time is read as wall-clock time in `zone` (the plan's). Fractions of a second are
/// refused rather than silently dropped, since billing works in whole seconds.
public enum Instant {
    public static func parse(_ text: String, zone: ZoneOffsets) throws(InstantError) -> Int64 {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) throws(InstantError) -> Int64 {
            guard range.upperBound <= bytes.count else { throw .malformed(text) }
            var value: Int64 = 0
            for byte in bytes[range] {
                guard byte >= 48, byte <= 57 else { throw .malformed(text) }
                value = value * 10 + Int64(byte - 48)
            }
            return value
        }
        func expect(_ index: Int, _ characters: String) throws(InstantError) {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { throw .malformed(text) }
        }
        try expect(4, "-"); try expect(7, "-"); try expect(10, "Tt "); try expect(13, ":"); try expect(16, ":")
        let year = try number(0..<4), month = try number(5..<7), day = try number(8..<10)
        let hour = try number(11..<13), minute = try number(14..<16), second = try number(17..<19)
        guard (1...12).contains(month), (1...CivilDate.daysInMonth(month, year: year)).contains(day),
              hour < 24, minute < 60, second < 60 else { throw .malformed(text) }
        let local = CivilDate(year: year, month: month, day: day).daysSinceEpoch * 86_400
            + hour * 3600 + minute * 60 + second
        var index = 19
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") || bytes[index] == UInt8(ascii: ",") {
            throw .fractionalSeconds(text)
        }
        let instant: Int64
        if index == bytes.count {
            guard let resolved = zone.instant(ofLocal: local) else { throw .skippedLocalTime(text, zone.identifier) }
            instant = resolved
        } else if bytes[index] == UInt8(ascii: "Z") || bytes[index] == UInt8(ascii: "z") {
            index += 1
            guard index == bytes.count else { throw .malformed(text) }
            instant = local
        } else {
            try expect(index, "+-")
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            try expect(index + 3, ":")
            let offsetHours = try number(index + 1..<index + 3), offsetMinutes = try number(index + 4..<index + 6)
            guard index + 6 == bytes.count, offsetHours < 24, offsetMinutes < 60 else { throw .malformed(text) }
            instant = local - sign * (offsetHours * 3600 + offsetMinutes * 60)
        }
        guard ZoneOffsets.coveredSeconds.contains(instant) else { throw .outOfRange(text) }
        return instant
    }
}

public enum InstantError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)
    case fractionalSeconds(String)
    case skippedLocalTime(String, String)
    case outOfRange(String)

    public var description: String {
        switch self {
        case .malformed(let text): "'\(text)' is not an ISO 8601 time like 2026-11-21T18:30:00Z"
        case .fractionalSeconds(let text): "'\(text)' has fractions of a second; calls are rated in whole seconds"
        case .skippedLocalTime(let text, let zone): "'\(text)' does not exist in \(zone) (clocks spring forward); give a UTC offset"
        case .outOfRange(let text): "'\(text)' is outside the years \(ZoneOffsets.coveredYears.lowerBound)-\(ZoneOffsets.coveredYears.upperBound - 1)"
        }
    }
}
