import Foundation
import RatingEngine
import Testing

@Suite struct TimeTests {
    /// The offset table must agree with the system's time-zone data at any instant.
    @Test(arguments: ["Europe/Sofia", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC", "Europe/Moscow"])
    func offsetsAgreeWithFoundation(zoneName: String) throws {
        let zone = try #require(ZoneOffsets(identifier: zoneName))
        let reference = try #require(TimeZone(identifier: zoneName))
        var random = SplitMix64(seed: UInt64(zoneName.utf8.count))
        for _ in 0..<3_000 {
            let instant = Int64.random(in: 0...4_102_444_800, using: &random)  // 1970-2100
            let expected = reference.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant)))
            #expect(zone.offset(at: instant).offsetSeconds == Int64(expected), "\(zoneName) at \(instant)")
        }
    }

    @Test func nextChangeIsTheDaylightSavingTransition() throws {
        let sofia = try #require(ZoneOffsets(identifier: "Europe/Sofia"))
        // 2026-03-29 01:00 UTC: clocks go from 03:00 to 04:00 local.
        let before = instant("2026-03-29T00:59:59Z")
        #expect(sofia.offset(at: before) == (7200, instant("2026-03-29T01:00:00Z")))
        #expect(sofia.offset(at: before + 1).offsetSeconds == 10_800)
    }

    @Test func civilDatesRoundTrip() {
        for days in stride(from: Int64(-800_000), through: 800_000, by: 997) {
            let date = CivilDate(daysSinceEpoch: days)
            #expect(date.daysSinceEpoch == days)
        }
        #expect(CivilDate(year: 2026, month: 11, day: 21).daysSinceEpoch == 20_778)
        #expect(CivilDate.weekday(daysSinceEpoch: 20_778) == 5)  // Saturday
        #expect(CivilDate.weekday(daysSinceEpoch: -1) == 2)  // 1969-12-31, a Wednesday
    }

    @Test func parsesInstants() throws {
        let sofia = try #require(ZoneOffsets(identifier: "Europe/Sofia"))
        #expect(try Instant.parse("2026-11-21T18:30:00Z", zone: sofia) == 1_795_285_800)
        #expect(try Instant.parse("2026-11-21T20:30:00+02:00", zone: sofia) == 1_795_285_800)
        #expect(try Instant.parse("2026-11-21 13:30:00-05:00", zone: sofia) == 1_795_285_800)
        #expect(try Instant.parse("2026-11-21T20:30:00", zone: sofia) == 1_795_285_800)  // plan-local
        // 2026-10-25 03:30 happens twice in Sofia; the earlier (summer time) is taken.
        #expect(try Instant.parse("2026-10-25T03:30:00", zone: sofia) == instant("2026-10-25T00:30:00Z"))
        #expect(throws: InstantError.skippedLocalTime("2026-03-29T03:30:00", "Europe/Sofia")) {
            try Instant.parse("2026-03-29T03:30:00", zone: sofia)
        }
        for bad in ["2026-11-21", "2026-02-30T10:00:00Z", "2026-11-21T24:00:00Z", "2026-11-21T10:00:00+2",
                    "2026-11-21T10:00:00Zjunk", "tomorrow", "2026-11-21T10:00:60Z"] {
            #expect(throws: InstantError.malformed(bad)) { try Instant.parse(bad, zone: sofia) }
        }
        #expect(throws: InstantError.fractionalSeconds("2026-11-21T10:00:00.5Z")) {
            try Instant.parse("2026-11-21T10:00:00.5Z", zone: sofia)
        }
        #expect(throws: InstantError.outOfRange("1800-01-01T00:00:00Z")) {
            try Instant.parse("1800-01-01T00:00:00Z", zone: sofia)
        }
    }
}
