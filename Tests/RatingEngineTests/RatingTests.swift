import Foundation
import RatingEngine
import Testing

@Suite struct RatingTests {
    struct Scenario: CustomTestStringConvertible, Sendable {
        let number: String
        let start: String
        let duration: Int64
        let rule: String
        let prefix: String
        let billed: Int64
        let cost: String
        let segments: [String]  // "rule:prefix:seconds"
        var testDescription: String { "\(number) at \(start) for \(duration)s" }
    }

    // Times are UTC; Sofia is UTC+2 in winter. 2026-11-18 is a Wednesday, 2026-11-20 a Friday.
    static let scenarios: [Scenario] = [
        //       number          start                   dur   rule       prefix   billed cost    segments
        Scenario(number: "35921234567", start: "2026-11-18T10:00:00Z", duration: 61, rule: "default", prefix: "359", billed: 120, cost: "1.20", segments: ["default:359:120"]),
        Scenario(number: "35921234567", start: "2026-11-18T10:00:00Z", duration: 1, rule: "default", prefix: "359", billed: 60, cost: "0.60", segments: ["default:359:60"]),
        Scenario(number: "35921234567", start: "2026-11-18T10:00:00Z", duration: 0, rule: "default", prefix: "359", billed: 0, cost: "0.00", segments: []),
        Scenario(number: "+35921234567", start: "2026-11-20T19:59:00Z", duration: 120, rule: "default", prefix: "359", billed: 120, cost: "0.90", segments: ["default:359:60", "night:359:60"]),
        Scenario(number: "35921234567", start: "2026-11-20T21:59:30Z", duration: 90, rule: "night", prefix: "359", billed: 120, cost: "0.51", segments: ["night:359:30", "weekend:359:90"]),
        Scenario(number: "35921234567", start: "2026-11-22T21:59:00Z", duration: 120, rule: "weekend", prefix: "359", billed: 120, cost: "0.54", segments: ["weekend:359:60", "night:359:60"]),
        Scenario(number: "359881234567", start: "2026-11-18T21:00:00Z", duration: 10, rule: "night", prefix: "359", billed: 60, cost: "0.30", segments: ["night:359:60"]),
        Scenario(number: "12125550100", start: "2026-11-18T21:00:00Z", duration: 60, rule: "default", prefix: "1", billed: 60, cost: "0.02", segments: ["default:1:60"]),
        Scenario(number: "359881234567", start: "2026-11-18T10:00:00Z", duration: 31, rule: "default", prefix: "35988", billed: 36, cost: "0.82", segments: ["default:35988:36"]),
        Scenario(number: "442071234567", start: "2026-11-18T10:00:00Z", duration: 5, rule: "default", prefix: "4420", billed: 60, cost: "0.03", segments: ["default:4420:60"]),
        Scenario(number: "35921234567", start: "2026-12-25T10:00:00Z", duration: 60, rule: "holiday", prefix: "359", billed: 60, cost: "0.06", segments: ["holiday:359:60"]),
        Scenario(number: "35921234567", start: "2027-01-01T10:00:00Z", duration: 60, rule: "holiday", prefix: "359", billed: 60, cost: "0.06", segments: ["holiday:359:60"]),
        Scenario(number: "35921234567", start: "2028-01-01T10:00:00Z", duration: 60, rule: "weekend", prefix: "359", billed: 60, cost: "0.24", segments: ["weekend:359:60"]),
        // A rule's deck may lack the number's longer prefix: the rule still wins with its own longest match.
        Scenario(number: "442071234567", start: "2026-11-18T21:00:00Z", duration: 30, rule: "night", prefix: "44", billed: 30, cost: "0.01", segments: ["night:44:30"]),
    ]

    @Test(arguments: scenarios)
    func ratesScenario(_ scenario: Scenario) throws {
        let plan = try TestDecks.fixture().load(TestDecks.plan())
        var segments: [(choice: TariffPlan.RateChoice, seconds: Int64)] = []
        let charge = try plan.charge(number(scenario.number), start: instant(scenario.start),
                                     durationSeconds: scenario.duration, segments: &segments)
        #expect(plan.rateName(of: charge.start) == scenario.rule)
        #expect(plan.decks[charge.start.deck].prefix(at: charge.start.row) == scenario.prefix)
        #expect(charge.billedSeconds == scenario.billed)
        #expect(Money.format(micros: charge.chargedMicros, minimumDecimals: 2) == scenario.cost)
        let described = segments.map { "\(plan.rateName(of: $0.choice)):\(plan.decks[$0.choice.deck].prefix(at: $0.choice.row)):\($0.seconds)" }
        #expect(described == scenario.segments)
    }

    @Test func wholeCallAtStartRateWithoutSplit() throws {
        let plan = try TestDecks.fixture().load(TestDecks.plan(split: false))
        let charge = try plan.charge(number("35921234567"), start: instant("2026-11-20T19:59:00Z"), durationSeconds: 120)
        #expect(charge.chargedMicros == 1_200_000)
    }

    /// Sofia 2026-03-29: 03:00 local becomes 04:00 at 01:00 UTC; 2026-10-25: 04:00 becomes 03:00.
    @Test func splitFollowsDaylightSavingChanges() throws {
        let plan = try TestDecks.fixture().load(TestDecks.daylightSavingPlan)
        var segments: [(choice: TariffPlan.RateChoice, seconds: Int64)] = []
        let spring = try plan.charge(number("35921234567"), start: instant("2026-03-29T00:59:00Z"), durationSeconds: 120, segments: &segments)
        #expect(spring.chargedMicros == 900_000)
        #expect(segments.map { plan.rateName(of: $0.choice) } == ["default", "early"])
        let autumn = try plan.charge(number("35921234567"), start: instant("2026-10-25T00:59:00Z"), durationSeconds: 3600, segments: &segments)
        #expect(autumn.chargedMicros == 27_000_000)
        #expect(segments.map { "\(plan.rateName(of: $0.choice)):\($0.seconds)" } == ["early:60", "default:1800", "early:1740"])
    }

    @Test(arguments: [("up", "0.02", "0.13"), ("half-up", "0.01", "0.13"), ("down", "0.01", "0.12"), ("half-even", "0.01", "0.12")])
    func roundsTheChargedTotal(mode: String, oneMinute: String, tenMinutes: String) throws {
        let plan = try TestDecks.fixture().load(TestDecks.plan(rounding: mode))
        let start = instant("2026-11-18T10:00:00Z")
        let short = try plan.charge(number("12125550100"), start: start, durationSeconds: 60)
        let long = try plan.charge(number("12125550100"), start: start, durationSeconds: 600)
        #expect(short.costMicros == 12_500)
        #expect(long.costMicros == 125_000)
        #expect(Money.format(micros: short.chargedMicros, minimumDecimals: 2) == oneMinute)
        #expect(Money.format(micros: long.chargedMicros, minimumDecimals: 2) == tenMinutes)
    }

    @Test func unratedNumberIsAnErrorWhateverTheDuration() throws {
        let plan = try TestDecks.fixture().load(TestDecks.plan())
        for duration: Int64 in [0, 60] {
            #expect(throws: RatingError.noRate("999123")) {
                try plan.charge(number("999123"), start: instant("2026-11-18T10:00:00Z"), durationSeconds: duration)
            }
        }
        #expect(throws: RatingError.noRate("999123")) {
            try plan.maxDuration(number("999123"), start: instant("2026-11-18T10:00:00Z"), budgetMicros: 1_000_000)
        }
        #expect(throws: RatingError.negativeDuration(-1)) {
            try plan.charge(number("359"), start: instant("2026-11-18T10:00:00Z"), durationSeconds: -1)
        }
    }

    @Test(arguments: [
        ("35921234567", "2026-11-18T10:00:00Z", 1_000_000, 60),     // 0.60 a minute: one minute, not two
        ("35921234567", "2026-11-18T10:00:00Z", 599_999, 0),        // first increment unaffordable
        ("35921234567", "2026-11-18T10:00:00Z", 100_000_000, 3600), // capped by max_duration
        ("359881234567", "2026-11-18T10:00:00Z", 100_000, 0),       // connect fee alone eats the budget
        ("359881234567", "2026-11-18T10:00:00Z", 820_000, 36),      // 30/6: 0.10 + 36 s at 1.20
        ("35921234567", "2026-11-20T19:59:00Z", 900_000, 120),      // second minute at the night rate
    ] as [(String, String, Int64, Int64)])
    func maxDurationScenarios(dialled: String, start: String, budget: Int64, expected: Int64) throws {
        let plan = try TestDecks.fixture().load(TestDecks.plan())
        #expect(try plan.maxDuration(number(dialled), start: instant(start), budgetMicros: budget) == expected)
    }

    /// Random calls around rule, midnight and DST boundaries, against the second-by-second reference.
    @Test(arguments: 0..<4)
    func agreesWithReferenceRater(seed: Int) throws {
        let plan = try TestDecks.fixture().load(TestDecks.plan(decimals: 6))
        let reference = ReferenceRater.retail()
        var random = SplitMix64(seed: UInt64(seed))
        let anchors = ["2026-03-28T21:30:00Z", "2026-03-29T00:30:00Z", "2026-10-24T21:30:00Z", "2026-10-25T00:30:00Z",
                       "2026-11-20T19:30:00Z", "2026-11-22T21:30:00Z", "2026-12-24T21:30:00Z", "2026-12-31T21:30:00Z",
                       "2026-11-18T04:30:00Z"].map(instant)
        let numbers = ["35921234567", "359881234567", "442071234567", "4412345", "12125550100", "999"]
        for _ in 0..<60 {
            let dialled = numbers.randomElement(using: &random) ?? "359"
            let start = (anchors.randomElement(using: &random) ?? 0) + Int64.random(in: 0...7200, using: &random)
            let duration = Int64.random(in: 0...2400, using: &random)
            let expected = reference.rate(dialled, start: start, duration: duration)
            do {
                let charge = try plan.charge(number(dialled), start: start, durationSeconds: duration)
                #expect(charge.billedSeconds == expected?.billed, "\(dialled) at \(start) for \(duration)")
                #expect(charge.costMicros == expected?.cost, "\(dialled) at \(start) for \(duration)")
            } catch {
                #expect(expected == nil && error == .noRate(dialled))
            }
        }
    }

    /// Max duration is exactly the largest affordable duration, and cost never falls as duration grows.
    @Test(arguments: 0..<4)
    func maxDurationMatchesWalkingTheSeconds(seed: Int) throws {
        let plan = try TestDecks.fixture().load(TestDecks.plan(maxDuration: 900))
        var random = SplitMix64(seed: UInt64(100 + seed))
        let numbers = ["35921234567", "359881234567", "442071234567", "4412345", "12125550100"]
        for _ in 0..<25 {
            let dialled = number(numbers.randomElement(using: &random) ?? "359")
            let start = instant("2026-11-20T19:50:00Z") + Int64.random(in: 0...20_000, using: &random)
            let budget = Int64.random(in: 0...8_000_000, using: &random)
            var previous: Int64 = 0
            var walked: Int64 = 0
            for duration in Int64(0)...900 {
                let cost = try plan.charge(dialled, start: start, durationSeconds: duration).chargedMicros
                #expect(cost >= previous)
                previous = cost
                if cost <= budget { walked = duration }
            }
            #expect(try plan.maxDuration(dialled, start: start, budgetMicros: budget) == walked, "\(dialled) \(start) \(budget)")
        }
    }

    @Test func costOverflowIsAnError() throws {
        let fixture = try PlanFixture(decks: ["big.csv": "prefix,destination,rate,initial_increment,increment\n9,Big,9000000000000,1,1\n"])
        let plan = try fixture.load("name = \"Big\"\ncurrency = \"EUR\"\ndefault = \"big.csv\"\n")
        #expect(throws: RatingError.overflow) {
            try plan.charge(number("9"), start: instant("2026-11-18T10:00:00Z"), durationSeconds: 100_000_000)
        }
    }

    @Test func planBookSwapsWholePlans() throws {
        let fixture = try TestDecks.fixture()
        let first = try fixture.load(TestDecks.plan())
        let book = PlanBook([first])
        let held = try #require(book.plan(named: "Test"))
        let second = try fixture.load(TestDecks.plan(split: false))
        #expect(book.install(second) === first)
        #expect(book.plan(named: "Test") === second)
        #expect(held.split)  // a call that took the old plan keeps rating with it
    }
}
