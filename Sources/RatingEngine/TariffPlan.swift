/// A tariff plan: decks, time rules and charging settings, immutable once loaded.
///
/// A final class so that a whole plan is swapped as one reference (`PlanBook`) while calls that
/// hold the old one finish rating with it.
public final class TariffPlan: Sendable {
    public let name: String
    public let currency: Currency
    public let zone: ZoneOffsets
    public let decimals: Int
    public let rounding: RoundingMode
    public let split: Bool
    public let maxDurationSeconds: Int64
    public let rules: [TimeRule]
    public let decks: [RateDeck]
    public let defaultDeckIndex: Int
    /// Seconds of the local day at which some rule's window opens or closes, ascending,
    /// ending with 86,400 (midnight, where days and dates change).
    let boundaries: [Int64]
    let rulesNeedDate: Bool

    public init(name: String, currency: Currency, zone: ZoneOffsets, decimals: Int, rounding: RoundingMode,
                split: Bool, maxDurationSeconds: Int64, rules: [TimeRule], decks: [RateDeck], defaultDeckIndex: Int) {
        precondition(decks.indices.contains(defaultDeckIndex))
        precondition(rules.allSatisfy { decks.indices.contains($0.deckIndex) })
        precondition((0...Money.maxDecimals).contains(decimals))
        self.name = name
        self.currency = currency
        self.zone = zone
        self.decimals = decimals
        self.rounding = rounding
        self.split = split
        self.maxDurationSeconds = maxDurationSeconds
        self.rules = rules
        self.decks = decks
        self.defaultDeckIndex = defaultDeckIndex
        var boundaries = Set<Int64>([86_400])
        for rule in rules {
            if let window = rule.window {
                boundaries.insert(window.from == 0 ? 86_400 : window.from)
                boundaries.insert(window.to == 0 ? 86_400 : window.to)
            }
        }
        self.boundaries = boundaries.sorted()
        rulesNeedDate = rules.contains { $0.needsDate }
    }

    /// Where a second of a call is priced from: a rule (or the default deck, `rule == -1`) and a row.
    public struct RateChoice: Equatable, Sendable {
        public let rule: Int
        public let deck: Int
        public let row: Int
    }

    /// The outcome of rating one call, without the allocation of per-segment detail.
    public struct Charge: Equatable, Sendable {
        public let start: RateChoice
        public let billedSeconds: Int64
        /// Connect fee plus ceil(exact / 60), before the plan's rounding.
        public let costMicros: Int64
        /// The charged cost: `costMicros` rounded to the plan's decimals.
        public let chargedMicros: Int64
    }

    public func rateName(of choice: RateChoice) -> String {
        choice.rule < 0 ? "default" : rules[choice.rule].name
    }

    public func rate(of choice: RateChoice) -> PrefixRate {
        decks[choice.deck].rate(at: choice.row)
    }

    // MARK: Rating

    /// Rates a call: the rating contract of docs/rating.md, steps 1-5.
    public func charge(_ number: DialledNumber, start: Int64, durationSeconds: Int64) throws(RatingError) -> Charge {
        guard durationSeconds >= 0 else { throw .negativeDuration(durationSeconds) }
        return try withMatchCache { cache throws(RatingError) in
            let startChoice = try startChoice(number, at: start, cache: cache)
            return try charge(number, start: start, from: startChoice, durationSeconds: durationSeconds,
                              cache: cache) { _, _ in }
        }
    }

    /// Rates a call and reports its priced stretches in order, merged where the price source is unchanged.
    public func charge(_ number: DialledNumber, start: Int64, durationSeconds: Int64,
                       segments: inout [(choice: RateChoice, seconds: Int64)]) throws(RatingError) -> Charge {
        guard durationSeconds >= 0 else { throw .negativeDuration(durationSeconds) }
        var collected: [(choice: RateChoice, seconds: Int64)] = []
        let result = try withMatchCache { cache throws(RatingError) in
            let startChoice = try startChoice(number, at: start, cache: cache)
            return try charge(number, start: start, from: startChoice, durationSeconds: durationSeconds,
                              cache: cache) { choice, seconds in
                if let last = collected.last, last.choice == choice {
                    collected[collected.count - 1].seconds += seconds
                } else {
                    collected.append((choice, seconds))
                }
            }
        }
        segments = collected
        return result
    }

    /// The largest whole duration in [0, max_duration] whose charged cost is within `budgetMicros`
    /// (step 6). Cost is non-decreasing in duration and constant between increment boundaries, so a
    /// binary search over the boundaries finds it without walking the seconds.
    public func maxDuration(_ number: DialledNumber, start: Int64, budgetMicros: Int64) throws(RatingError) -> Int64 {
        guard budgetMicros >= 0 else { throw .negativeBudget }
        return try withMatchCache { cache throws(RatingError) in
            let startChoice = try startChoice(number, at: start, cache: cache)
            let rate = self.rate(of: startChoice)
            let initial = Int64(rate.initialIncrementSeconds)
            let increment = Int64(rate.incrementSeconds)
            let cap = maxDurationSeconds
            guard cap > 0 else { return 0 }
            func longestDuration(inStep step: Int64) -> Int64 { min(initial + step * increment, cap) }
            func affordable(_ step: Int64) -> Bool {
                let duration = longestDuration(inStep: step)
                guard let charge = try? self.charge(number, start: start, from: startChoice, durationSeconds: duration,
                                                    cache: cache, onSegment: { _, _ in }) else { return false }
                return charge.chargedMicros <= budgetMicros
            }
            var low: Int64 = initial >= 1 ? 0 : 1
            var high = cap <= initial ? 0 : (cap - initial + increment - 1) / increment
            guard low <= high else { return 0 }
            // Most callers can pay for the longest call the plan allows: one charge says so,
            // where the search took eight for the retail plan's 180 steps (and the first step
            // needs no charge of its own then, as costs never fall with duration).
            if affordable(high) { return longestDuration(inStep: high) }
            guard affordable(low) else { return 0 }
            while low < high {
                let middle = low + (high - low + 1) / 2
                if affordable(middle) { low = middle } else { high = middle - 1 }
            }
            return longestDuration(inStep: low)
        }
    }

    /// Per-call memo of each deck's longest match (-2: not looked up yet), on the stack, and
    /// after them the last date worked out (`dateMemo`).
    private func withMatchCache<R>(_ body: (UnsafeMutableBufferPointer<Int32>) throws(RatingError) -> R) throws(RatingError) -> R {
        try withUnsafeTemporaryAllocation(of: Int32.self, capacity: decks.count + Self.dateMemoSlots) { cache throws(RatingError) in
            cache.initialize(repeating: -2)
            cache[decks.count] = Self.noDay
            return try body(cache)
        }
    }

    /// The day, year, month and day of month of the last date a call's rating needed: the
    /// probes of `maxDuration` ask for the same day again and again, and working it out (eight
    /// divisions) was 2.6% of the event loop's samples at the PAP peak. Days in the covered
    /// range fit 32 bits.
    private static let dateMemoSlots = 4
    private static let noDay = Int32.min

    @inline(__always)
    private func date(ofDay day: Int64, cache: UnsafeMutableBufferPointer<Int32>) -> CivilDate {
        let memo = decks.count
        if cache[memo] != Self.noDay, Int64(cache[memo]) == day {
            return CivilDate(year: Int64(cache[memo + 1]), month: Int64(cache[memo + 2]), day: Int64(cache[memo + 3]))
        }
        let date = CivilDate(daysSinceEpoch: day)
        if let packedDay = Int32(exactly: day), let year = Int32(exactly: date.year) {
            cache[memo] = packedDay
            cache[memo + 1] = year
            cache[memo + 2] = Int32(date.month)
            cache[memo + 3] = Int32(date.day)
        }
        return date
    }

    @inline(__always)
    private func match(_ number: DialledNumber, deck: Int, cache: UnsafeMutableBufferPointer<Int32>) -> Int32 {
        var row = cache[deck]
        if row == -2 {
            row = decks[deck].trie.longestMatch(number)
            cache[deck] = row
        }
        return row
    }

    private func startChoice(_ number: DialledNumber, at start: Int64,
                             cache: UnsafeMutableBufferPointer<Int32>) throws(RatingError) -> RateChoice {
        guard ZoneOffsets.coveredSeconds.contains(start) else { throw .instantOutOfRange }
        guard let choice = choice(number, at: start, cache: cache).choice else { throw .noRate(number.description) }
        return choice
    }

    /// The price source at `instant` and the next instant at which it may change.
    @inline(__always)
    private func choice(_ number: DialledNumber, at instant: Int64,
                        cache: UnsafeMutableBufferPointer<Int32>) -> (choice: RateChoice?, nextChange: Int64) {
        let (offset, nextTransition) = zone.offset(at: instant)
        let local = instant + offset
        let day = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let secondOfDay = local - day * 86_400
        var nextBoundary: Int64 = 86_400
        for boundary in boundaries where boundary > secondOfDay {
            nextBoundary = boundary
            break
        }
        let nextChange = min(instant + (nextBoundary - secondOfDay), nextTransition)
        if !rules.isEmpty {
            let weekday = CivilDate.weekday(daysSinceEpoch: day)
            let date = rulesNeedDate ? self.date(ofDay: day, cache: cache) : nil
            for (index, rule) in rules.enumerated()
            where rule.applies(secondOfDay: secondOfDay, weekday: weekday, date: date) {
                let row = match(number, deck: rule.deckIndex, cache: cache)
                if row >= 0 { return (RateChoice(rule: index, deck: rule.deckIndex, row: Int(row)), nextChange) }
            }
        }
        let row = match(number, deck: defaultDeckIndex, cache: cache)
        let choice = row >= 0 ? RateChoice(rule: -1, deck: defaultDeckIndex, row: Int(row)) : nil
        return (choice, nextChange)
    }

    /// Steps 2-5 for a call whose start rate is already known: `maxDuration` probes many
    /// durations of one call and must not look the start up again for each.
    @inline(__always)
    private func charge(_ number: DialledNumber, start: Int64, from startChoice: RateChoice, durationSeconds: Int64,
                        cache: UnsafeMutableBufferPointer<Int32>,
                        onSegment: (RateChoice, Int64) -> Void) throws(RatingError) -> Charge {
        let startRate = rate(of: startChoice)
        guard durationSeconds > 0 else {
            return Charge(start: startChoice, billedSeconds: 0, costMicros: 0, chargedMicros: 0)
        }
        let billed = startRate.billedSeconds(forDuration: durationSeconds)
        guard ZoneOffsets.coveredSeconds.contains(start + billed) else { throw .instantOutOfRange }
        var exact: Int64 = 0
        if !split || rules.isEmpty {
            exact = try checked(startRate.ratePerMinuteMicros.multipliedReportingOverflow(by: billed))
            onSegment(startChoice, billed)
        } else {
            var instant = start
            var remaining = billed
            while remaining > 0 {
                let (found, nextChange) = choice(number, at: instant, cache: cache)
                let source = found ?? startChoice
                let seconds = min(remaining, nextChange - instant)
                let price = decks[source.deck].rates[source.row].ratePerMinuteMicros
                let part = try checked(price.multipliedReportingOverflow(by: seconds))
                exact = try checked(exact.addingReportingOverflow(part))
                onSegment(source, seconds)
                instant += seconds
                remaining -= seconds
            }
        }
        let perSecond = exact / 60 + (exact % 60 == 0 ? 0 : 1)
        let cost = try checked(startRate.connectFeeMicros.addingReportingOverflow(perSecond))
        let charged: Int64
        do { charged = try rounding.round(micros: cost, decimals: decimals) } catch { throw .overflow }
        return Charge(start: startChoice, billedSeconds: billed, costMicros: cost, chargedMicros: charged)
    }

    private func checked(_ result: (partialValue: Int64, overflow: Bool)) throws(RatingError) -> Int64 {
        guard !result.overflow else { throw .overflow }
        return result.partialValue
    }
}
