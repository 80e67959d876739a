/// A condition on local time under which a plan prices calls from another deck
/// (night, weekend, holiday). Every condition a rule states must hold at the instant.
public struct TimeRule: Sendable {
    public let name: String
    /// Index of the rule's deck in its plan's `decks`.
    public let deckIndex: Int
    /// Bit `i` set means weekday `i` (0 = Monday) qualifies; 0 means the rule names no days.
    let weekdayMask: UInt8
    let dates: [RuleDate]
    /// Window [from, to) in seconds of the local day; `to < from` wraps past midnight.
    let window: (from: Int64, to: Int64)?

    init(name: String, deckIndex: Int, weekdayMask: UInt8, dates: [RuleDate], window: (from: Int64, to: Int64)?) {
        self.name = name
        self.deckIndex = deckIndex
        self.weekdayMask = weekdayMask
        self.dates = dates
        self.window = window
    }

    var needsDate: Bool { !dates.isEmpty }

    @inline(__always)
    func applies(secondOfDay: Int64, weekday: Int, date: CivilDate?) -> Bool {
        if weekdayMask != 0, weekdayMask & (1 << UInt8(weekday)) == 0 { return false }
        if let window {
            let inside = window.from < window.to
                ? secondOfDay >= window.from && secondOfDay < window.to
                : secondOfDay >= window.from || secondOfDay < window.to
            if !inside { return false }
        }
        if !dates.isEmpty {
            guard let date, dates.contains(where: { $0.matches(date) }) else { return false }
        }
        return true
    }
}

/// A date a rule names: every year (`MM-DD`) or once (`YYYY-MM-DD`).
struct RuleDate: Sendable, Equatable {
    let year: Int64?
    let month: Int64
    let day: Int64

    func matches(_ date: CivilDate) -> Bool {
        date.month == month && date.day == day && (year == nil || year == date.year)
    }
}
