import ArgumentParser
import Foundation
import RatingEngine

struct RateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rate",
        abstract: "Rate one call with a tariff plan, or check a plan and its decks.",
        discussion: "Prints one JSON object. File formats and the rating rules: docs/tariff-plans.md, docs/rating.md."
    )

    @Option(help: "The tariff plan (TOML).") var plan: String
    @Option(help: "The dialled number (digits, optional leading +).") var number: String?
    @Option(help: "Answer time, ISO 8601 (2026-11-21T18:30:00Z, or +02:00; without an offset: the plan's zone).")
    var start: String?
    @Option(help: "Answered seconds.") var duration: Int64?
    @Option(help: "Money available (e.g. 5.00): adds max_duration, the longest affordable call.") var budget: String?
    @Flag(help: "Validate the plan and its decks and print a summary.") var check = false

    func run() throws {
        let tariff: TariffPlan
        do { tariff = try PlanLoader.load(path: plan) } catch { throw CommandFailure(error.description) }
        if check {
            guard number == nil, start == nil, duration == nil, budget == nil else {
                throw CommandFailure("--check takes no call options")
            }
            planSummary(tariff).print()
            return
        }
        guard let number else { throw CommandFailure("missing --number") }
        guard let start else { throw CommandFailure("missing --start") }
        guard duration != nil || budget != nil else { throw CommandFailure("missing --duration") }
        let durationSeconds = duration ?? 0
        guard durationSeconds >= 0 else { throw CommandFailure("--duration must be 0 or more seconds") }

        do {
            let dialled = try DialledNumber(number)
            let startInstant = try Instant.parse(start, zone: tariff.zone)
            let budgetMicros = try budget.map { text throws in try parseBudget(text, currency: tariff.currency) }
            var segments: [(choice: TariffPlan.RateChoice, seconds: Int64)] = []
            let charge = try tariff.charge(dialled, start: startInstant, durationSeconds: durationSeconds, segments: &segments)
            let maxDuration = try budgetMicros.map { micros throws in
                try tariff.maxDuration(dialled, start: startInstant, budgetMicros: micros)
            }
            callReport(tariff: tariff, number: dialled, charge: charge, segments: segments, maxDuration: maxDuration).print()
        } catch let error as CommandFailure {
            throw error
        } catch {
            throw CommandFailure(String(describing: error))
        }
    }

    private func parseBudget(_ text: String, currency: Currency) throws -> Int64 {
        let parts = text.split(separator: " ")
        guard (1...2).contains(parts.count) else { throw CommandFailure("--budget '\(text)' is not an amount") }
        if parts.count == 2, parts[1] != currency.code {
            throw CommandFailure("--budget is in \(parts[1]) but the plan charges \(currency.code)")
        }
        let micros: Int64
        do { micros = try Money.parseMicros(parts[0]) } catch { throw CommandFailure("--budget: \(error)") }
        guard micros >= 0 else { throw CommandFailure("--budget must not be negative") }
        return micros
    }
}

/// The JSON object `ratel rate` prints for a call (docs/rating.md lists its fields).
func callReport(tariff: TariffPlan, number: DialledNumber, charge: TariffPlan.Charge,
                segments: [(choice: TariffPlan.RateChoice, seconds: Int64)], maxDuration: Int64?) -> JSON {
    let deck = tariff.decks[charge.start.deck]
    var members: [(String, JSON)] = [
        ("number", .string(number.description)),
        ("prefix", .string(deck.prefix(at: charge.start.row))),
        ("destination", .string(deck.destination(at: charge.start.row))),
        ("rule", .string(tariff.rateName(of: charge.start))),
        ("billed_seconds", .int(charge.billedSeconds)),
        ("cost", .string(Money.format(micros: charge.chargedMicros, minimumDecimals: tariff.decimals))),
        ("currency", .string(tariff.currency.code)),
        ("segments", .array(segments.map { choice, seconds in
            .object([
                ("rule", .string(tariff.rateName(of: choice))),
                ("prefix", .string(tariff.decks[choice.deck].prefix(at: choice.row))),
                ("rate", .string(Money.format(micros: tariff.rate(of: choice).ratePerMinuteMicros,
                                              minimumDecimals: tariff.decimals))),
                ("seconds", .int(seconds)),
            ])
        })),
    ]
    if let maxDuration { members.append(("max_duration", .int(maxDuration))) }
    return .object(members)
}

/// What `ratel rate --check` prints about a valid plan.
func planSummary(_ tariff: TariffPlan) -> JSON {
    .object([
        ("plan", .string(tariff.name)),
        ("currency", .string(tariff.currency.code)),
        ("timezone", .string(tariff.zone.identifier)),
        ("decimals", .int(Int64(tariff.decimals))),
        ("rounding", .string(tariff.rounding.rawValue)),
        ("split", .bool(tariff.split)),
        ("max_duration", .int(tariff.maxDurationSeconds)),
        ("default", .string(tariff.decks[tariff.defaultDeckIndex].source)),
        ("rules", .array(tariff.rules.map { rule in
            .object([("name", .string(rule.name)), ("deck", .string(tariff.decks[rule.deckIndex].source))])
        })),
        ("decks", .array(tariff.decks.map { deck in
            .object([
                ("path", .string(deck.source)),
                ("prefixes", .int(Int64(deck.count))),
                ("destinations", .int(Int64(deck.distinctDestinations))),
                ("trie_nodes", .int(Int64(deck.trieNodeCount))),
            ])
        })),
    ])
}
