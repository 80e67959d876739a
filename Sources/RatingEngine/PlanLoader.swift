import Foundation
import TOMLKit

/// A tariff plan that could not be loaded: names the file and the key (or wraps a deck's error).
public struct PlanError: Error, Equatable, Sendable, CustomStringConvertible {
    public let source: String
    public let key: String?
    public let message: String

    public init(source: String, key: String?, message: String) {
        self.source = source
        self.key = key
        self.message = message
    }

    public var description: String {
        key.map { "\(source): key '\($0)': \(message)" } ?? "\(source): \(message)"
    }
}

/// Reads a tariff plan (TOML, format in docs/tariff-plans.md) and the rate decks it names,
/// checking every key, so that a plan is either wholly valid or not loaded at all.
public enum PlanLoader {
    static let topKeys: Set<String> = ["name", "currency", "timezone", "default", "decimals", "rounding",
                                       "split", "max_duration", "rule"]
    static let ruleKeys: Set<String> = ["name", "deck", "days", "dates", "from", "to"]
    static let weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    public static let maxDurationLimitSeconds: Int64 = 31 * 86_400
    static let maxRules = 64

    /// Loads the plan at `path`; deck paths inside it are relative to the plan's folder.
    public static func load(path: String) throws(PlanError) -> TariffPlan {
        let bytes: [UInt8]
        do { bytes = try readFile(path) } catch { throw PlanError(source: path, key: nil, message: error.description) }
        let text = String(decoding: bytes, as: UTF8.self)
        let folder = path.lastIndex(of: "/").map { String(path[...$0]) } ?? ""
        return try parse(text, source: path) { deckPath throws(DeckError) in
            let resolved = deckPath.hasPrefix("/") ? deckPath : folder + deckPath
            return try loadDeck(path: resolved)
        }
    }

    /// Loads one rate deck file (`.csv`, or `.csv.gz` for a gzip-compressed one).
    public static func loadDeck(path: String) throws(DeckError) -> RateDeck {
        let bytes: [UInt8]
        do { bytes = try readFile(path) } catch { throw DeckError(source: path, line: nil, column: nil, reason: error) }
        return try DeckParser.parse(bytes: bytes, source: path)
    }

    /// Builds a plan from TOML text; `loadDeck` supplies each deck the plan names, once per path.
    public static func parse(_ text: String, source: String,
                             loadDeck: (String) throws(DeckError) -> RateDeck) throws(PlanError) -> TariffPlan {
        func fail(_ key: String?, _ message: String) -> PlanError { PlanError(source: source, key: key, message: message) }
        let table = try TOMLFields<PlanError>.document(text, fail: fail)
        let fields = TOMLFields(table: table, path: "", allowed: topKeys, fail: fail)
        try fields.rejectUnknownKeys()

        let name = try fields.string("name")
        let currencyCode = try fields.string("currency")
        let currency: Currency
        do { currency = try Currency(currencyCode) } catch { throw fail("currency", error.description) }
        let zoneName = try fields.optionalString("timezone") ?? "UTC"
        guard let zone = ZoneOffsets(identifier: zoneName) else { throw fail("timezone", "unknown time zone '\(zoneName)'") }
        let decimals = try fields.optionalInt("decimals", in: 0...Int64(Money.maxDecimals)) ?? 2
        let roundingName = try fields.optionalString("rounding") ?? RoundingMode.up.rawValue
        guard let rounding = RoundingMode(rawValue: roundingName) else {
            throw fail("rounding", "'\(roundingName)' is not one of \(RoundingMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let split = try fields.optionalBool("split") ?? true
        let maxDuration = try fields.optionalInt("max_duration", in: 1...maxDurationLimitSeconds) ?? 10_800

        var decks: [RateDeck] = []
        var deckIndexByPath: [String: Int] = [:]
        func deckIndex(_ deckPath: String, key: String) throws(PlanError) -> Int {
            guard !deckPath.isEmpty else { throw fail(key, "deck path is empty") }
            if let known = deckIndexByPath[deckPath] { return known }
            let deck: RateDeck
            do { deck = try loadDeck(deckPath) } catch { throw fail(key, error.description) }
            decks.append(deck)
            deckIndexByPath[deckPath] = decks.count - 1
            return decks.count - 1
        }
        let defaultDeck = try deckIndex(try fields.string("default"), key: "default")

        var rules: [TimeRule] = []
        if table["rule"] != nil {
            guard let array = table["rule"]?.array else { throw fail("rule", "must be an array of tables ([[rule]])") }
            guard array.count <= maxRules else { throw fail("rule", "more than \(maxRules) rules") }
            for (position, element) in array.enumerated() {
                let path = "rule[\(position + 1)]"
                guard let ruleTable = element.table else { throw fail(path, "must be a table") }
                let ruleFields = TOMLFields(table: ruleTable, path: path + ".", allowed: ruleKeys, fail: fail)
                try ruleFields.rejectUnknownKeys()
                let ruleName = try ruleFields.string("name")
                guard ruleName != "default" else { throw fail(path + ".name", "'default' names the plan's default deck") }
                guard !rules.contains(where: { $0.name == ruleName }) else { throw fail(path + ".name", "rule '\(ruleName)' is defined twice") }
                let deck = try deckIndex(try ruleFields.string("deck"), key: path + ".deck")
                let mask = try weekdayMask(try ruleFields.optionalStrings("days"), key: path + ".days", fail: fail)
                let dates = try ruleDates(try ruleFields.optionalStrings("dates"), key: path + ".dates", fail: fail)
                let from = try ruleFields.optionalString("from")
                let to = try ruleFields.optionalString("to")
                var window: (from: Int64, to: Int64)?
                switch (from, to) {
                case (nil, nil): window = nil
                case (let from?, let to?):
                    let start = try secondOfDay(from, key: path + ".from", allowMidnightEnd: false, fail: fail)
                    let end = try secondOfDay(to, key: path + ".to", allowMidnightEnd: true, fail: fail)
                    guard start != end else { throw fail(path + ".to", "window \(from)-\(to) is empty") }
                    window = (start, end)
                case (nil, _): throw fail(path + ".from", "'to' needs 'from'")
                case (_, nil): throw fail(path + ".to", "'from' needs 'to'")
                }
                rules.append(TimeRule(name: ruleName, deckIndex: deck, weekdayMask: mask, dates: dates, window: window))
            }
        }
        return TariffPlan(name: name, currency: currency, zone: zone, decimals: Int(decimals), rounding: rounding,
                          split: split, maxDurationSeconds: maxDuration, rules: rules, decks: decks,
                          defaultDeckIndex: defaultDeck)
    }

    private static func weekdayMask(_ names: [String]?, key: String,
                                    fail: (String?, String) -> PlanError) throws(PlanError) -> UInt8 {
        guard let names else { return 0 }
        guard !names.isEmpty else { throw fail(key, "list is empty; leave it out to mean every day") }
        var mask: UInt8 = 0
        for name in names {
            let lower = name.lowercased()
            guard let index = weekdays.firstIndex(of: lower) ?? fullWeekdayNames.firstIndex(of: lower)
            else { throw fail(key, "'\(name)' is not a weekday (mon, tue, wed, thu, fri, sat, sun)") }
            mask |= 1 << UInt8(index)
        }
        return mask
    }

    private static let fullWeekdayNames = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    private static func ruleDates(_ texts: [String]?, key: String,
                                  fail: (String?, String) -> PlanError) throws(PlanError) -> [RuleDate] {
        guard let texts else { return [] }
        guard !texts.isEmpty else { throw fail(key, "list is empty; leave it out to mean every date") }
        return try texts.map { text throws(PlanError) in
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            let numbers = parts.map { part in part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) ? Int64(part) : nil }
            let shapeOK = (parts.count == 2 && parts[0].count == 2 && parts[1].count == 2)
                || (parts.count == 3 && parts[0].count == 4 && parts[1].count == 2 && parts[2].count == 2)
            guard shapeOK, numbers.allSatisfy({ $0 != nil }) else {
                throw fail(key, "'\(text)' is not MM-DD or YYYY-MM-DD")
            }
            let values = numbers.compactMap { $0 }
            let year = values.count == 3 ? values[0] : nil
            let month = values[values.count - 2]
            let day = values[values.count - 1]
            guard (1...12).contains(month), (1...CivilDate.daysInMonth(month, year: year)).contains(day) else {
                throw fail(key, "'\(text)' is not a calendar date")
            }
            return RuleDate(year: year, month: month, day: day)
        }
    }

    /// Reads `HH:MM` or `HH:MM:SS`; `24:00` only as the end of a window.
    private static func secondOfDay(_ text: String, key: String, allowMidnightEnd: Bool,
                                    fail: (String?, String) -> PlanError) throws(PlanError) -> Int64 {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        let values = parts.map { part in part.count == 2 && part.allSatisfy({ $0.isASCII && $0.isNumber }) ? Int64(part) : nil }
        guard (2...3).contains(parts.count), values.allSatisfy({ $0 != nil }) else {
            throw fail(key, "'\(text)' is not a time of day (HH:MM)")
        }
        let numbers = values.compactMap { $0 }
        let seconds = numbers[0] * 3600 + numbers[1] * 60 + (numbers.count == 3 ? numbers[2] : 0)
        guard numbers[1] < 60, numbers.count == 2 || numbers[2] < 60,
              seconds < 86_400 || (allowMidnightEnd && seconds == 86_400) else {
            throw fail(key, "'\(text)' is not a time of day (00:00-23:59\(allowMidnightEnd ? ", or 24:00" : ""))")
        }
        return seconds
    }

    /// Reads a whole file, inflating it when its name ends in `.gz`.
    static func readFile(_ path: String) throws(DeckError.Reason) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(FileManager.default.fileExists(atPath: path) ? "permission denied or not a file" : "no such file")
        }
        let bytes = [UInt8](data)
        return path.hasSuffix(".gz") ? try Gzip.inflate(bytes) : bytes
    }
}
