import Foundation
import RatingEngine

/// One deck row in test form, so the same data feeds the CSV file and the brute-force reference.
struct Row {
    let prefix: String
    let rateMicros: Int64
    var connectMicros: Int64 = 0
    var initial: Int64 = 60
    var increment: Int64 = 60
    var minimum: Int64 = 0
}

/// Decks used by the rating tests (Europe/Sofia: UTC+2, UTC+3 in summer).
enum TestDecks {
    static let standard: [Row] = [
        Row(prefix: "359", rateMicros: 600_000),
        Row(prefix: "35988", rateMicros: 1_200_000, connectMicros: 100_000, initial: 30, increment: 6),
        Row(prefix: "44", rateMicros: 60_000, initial: 1, increment: 1),
        Row(prefix: "4420", rateMicros: 30_000, initial: 1, increment: 1, minimum: 60),
        Row(prefix: "1", rateMicros: 12_500),
    ]
    static let night: [Row] = [Row(prefix: "359", rateMicros: 300_000), Row(prefix: "44", rateMicros: 12_000, initial: 1, increment: 1)]
    static let weekend: [Row] = [Row(prefix: "359", rateMicros: 240_000), Row(prefix: "4420", rateMicros: 6_000)]
    static let holiday: [Row] = [Row(prefix: "359", rateMicros: 60_000)]

    static func csv(_ rows: [Row]) -> String {
        "prefix,destination,rate,connect_fee,initial_increment,increment,min_duration\n" + rows.map {
            "\($0.prefix),Dest \($0.prefix),\(Money.format(micros: $0.rateMicros, minimumDecimals: 0)),"
                + "\(Money.format(micros: $0.connectMicros, minimumDecimals: 0)),\($0.initial),\($0.increment),\($0.minimum)\n"
        }.joined()
    }

    static func fixture() throws -> PlanFixture {
        try PlanFixture(decks: ["std.csv": csv(standard), "night.csv": csv(night),
                                "weekend.csv": csv(weekend), "holiday.csv": csv(holiday)])
    }

    /// The retail-style plan of the scenario table; `extra` lines go in the top table.
    static func plan(split: Bool = true, rounding: String = "up", decimals: Int = 2, maxDuration: Int = 3600) -> String {
        """
        name = "Test"
        currency = "EUR"
        timezone = "Europe/Sofia"
        default = "std.csv"
        decimals = \(decimals)
        rounding = "\(rounding)"
        split = \(split)
        max_duration = \(maxDuration)

        [[rule]]
        name = "holiday"
        deck = "holiday.csv"
        dates = ["12-25", "2027-01-01"]

        [[rule]]
        name = "weekend"
        deck = "weekend.csv"
        days = ["sat", "sun"]

        [[rule]]
        name = "night"
        deck = "night.csv"
        days = ["mon", "tue", "wed", "thu", "fri"]
        from = "22:00"
        to = "07:00"
        """
    }

    /// A plan whose only rule is a window inside the hours where Sofia's clocks change.
    static let daylightSavingPlan = """
        name = "DST"
        currency = "EUR"
        timezone = "Europe/Sofia"
        default = "std.csv"
        [[rule]]
        name = "early"
        deck = "night.csv"
        from = "03:30"
        to = "05:00"
        """
}

/// Rates a call second by second with Foundation's calendar and linear prefix scans: slow,
/// obviously right, and sharing no code with the engine's offset table, trie or segment walk.
struct ReferenceRater {
    struct Rule {
        let rows: [Row]
        let weekdays: Set<Int>?  // Calendar weekday: 1 = Sunday
        let dates: [(year: Int?, month: Int, day: Int)]
        let window: (from: Int, to: Int)?
    }

    let rules: [Rule]
    let standard: [Row]
    let calendar: Calendar

    static func retail() -> ReferenceRater {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Sofia") ?? .gmt
        return ReferenceRater(rules: [
            Rule(rows: TestDecks.holiday, weekdays: nil, dates: [(nil, 12, 25), (2027, 1, 1)], window: nil),
            Rule(rows: TestDecks.weekend, weekdays: [7, 1], dates: [], window: nil),
            Rule(rows: TestDecks.night, weekdays: [2, 3, 4, 5, 6], dates: [], window: (22 * 3600, 7 * 3600)),
        ], standard: TestDecks.standard, calendar: calendar)
    }

    static func longest(_ rows: [Row], _ number: String) -> Row? {
        rows.filter { number.hasPrefix($0.prefix) }.max { $0.prefix.count < $1.prefix.count }
    }

    func row(_ number: String, at instant: Int64) -> Row? {
        let parts = calendar.dateComponents([.year, .month, .day, .weekday, .hour, .minute, .second],
                                            from: Date(timeIntervalSince1970: TimeInterval(instant)))
        let second = (parts.hour ?? 0) * 3600 + (parts.minute ?? 0) * 60 + (parts.second ?? 0)
        for rule in rules {
            if let weekdays = rule.weekdays, !weekdays.contains(parts.weekday ?? 0) { continue }
            if !rule.dates.isEmpty, !rule.dates.contains(where: {
                $0.month == parts.month && $0.day == parts.day && ($0.year == nil || $0.year == parts.year)
            }) { continue }
            if let window = rule.window {
                let inside = window.from < window.to ? (second >= window.from && second < window.to)
                    : (second >= window.from || second < window.to)
                if !inside { continue }
            }
            if let found = ReferenceRater.longest(rule.rows, number) { return found }
        }
        return ReferenceRater.longest(standard, number)
    }

    /// (billed seconds, cost micros before rounding), or nil when the number has no rate.
    func rate(_ number: String, start: Int64, duration: Int64) -> (billed: Int64, cost: Int64)? {
        guard let first = row(number, at: start) else { return nil }
        guard duration > 0 else { return (0, 0) }
        var billed = first.initial
        if duration > first.initial {
            billed = first.initial + (duration - first.initial + first.increment - 1) / first.increment * first.increment
        }
        billed = max(billed, first.minimum)
        var exact: Int64 = 0
        for second in 0..<billed {
            exact += (row(number, at: start + second) ?? first).rateMicros
        }
        return (billed, first.connectMicros + (exact + 59) / 60)
    }
}
