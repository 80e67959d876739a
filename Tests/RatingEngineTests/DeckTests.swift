import Foundation
import RatingEngine
import Testing

@Suite struct DeckTests {
    private func load(_ csv: String) throws -> RateDeck {
        let fixture = try PlanFixture(decks: [:])
        return try PlanLoader.loadDeck(path: try fixture.write("deck.csv", csv))
    }

    private func deckError(_ csv: String) throws -> DeckError? {
        let fixture = try PlanFixture(decks: [:])
        let path = try fixture.write("deck.csv", csv)
        do {
            _ = try PlanLoader.loadDeck(path: path)
            return nil
        } catch {
            #expect(error.source == path)
            return error
        }
    }

    @Test func readsColumnsInAnyOrderWithDefaults() throws {
        let deck = try load(#"""
            Rate,DESTINATION,prefix,Connect_Fee,buy_rate
            0.0125,"Bulgaria, mobile ""A1""",35988,0.05,0.01
            0.10,Bulgaria,359,,
            """#)
        #expect(deck.count == 2)
        let row = try #require(deck.longestMatch(number("359881234567")))
        #expect(deck.prefix(at: row) == "35988")
        #expect(deck.destination(at: row) == "Bulgaria, mobile \"A1\"")
        #expect(deck.rate(at: row) == PrefixRate(ratePerMinuteMicros: 12_500, connectFeeMicros: 50_000,
                                                 buyRatePerMinuteMicros: 10_000, initialIncrementSeconds: 60,
                                                 incrementSeconds: 60, minDurationSeconds: 0))
        let fallback = try #require(deck.longestMatch(number("35921234567")))
        #expect(deck.rate(at: fallback).buyRatePerMinuteMicros == nil)
        #expect(deck.rate(at: fallback).connectFeeMicros == 0)
        #expect(deck.longestMatch(number("44")) == nil)
    }

    @Test func acceptsByteOrderMarkCRLFAndBlankLines() throws {
        let deck = try load("\u{FEFF}prefix,destination,rate,initial_increment,increment,min_duration\r\n\r\n44,UK,0.02,30,6,60\r\n")
        let row = try #require(deck.longestMatch(number("4420")))
        #expect(deck.rate(at: row).initialIncrementSeconds == 30)
        #expect(deck.rate(at: row).incrementSeconds == 6)
        #expect(deck.rate(at: row).minDurationSeconds == 60)
    }

    @Test(arguments: [
        ("prefix,destination,rate,colour\n1,US,0.1,red\n", 1, nil, DeckError.Reason.unknownColumn("colour")),
        ("prefix,destination\n1,US\n", 1, nil, .missingColumn("rate")),
        ("prefix,destination,rate,Rate\n1,US,0.1,0.1\n", 1, nil, .duplicateColumn("rate")),
        ("prefix,destination,rate\n1,US,0.1\n1x,US,0.1\n", 3, "prefix", .invalidPrefix("1x")),
        ("prefix,destination,rate\n+1,US,0.1\n", 2, "prefix", .invalidPrefix("+1")),
        ("prefix,destination,rate\n123456789012345678901,US,0.1\n", 2, "prefix", .invalidPrefix("123456789012345678901")),
        ("prefix,destination,rate\n1,US,0.1\n44,UK,abc\n", 3, "rate", .invalidAmount(.invalidAmount("abc"))),
        ("prefix,destination,rate\n44,UK,0.1234567\n", 2, "rate", .invalidAmount(.tooManyDecimals("0.1234567"))),
        ("prefix,destination,rate\n44,UK,-0.1\n", 2, "rate", .negativeAmount("-0.1")),
        ("prefix,destination,rate\n44,UK,\n", 2, "rate", .emptyValue),
        ("prefix,destination,rate\n44,,0.1\n", 2, "destination", .emptyValue),
        ("prefix,destination,rate,increment\n44,UK,0.1,0\n", 2, "increment", .invalidInteger("0", 1...86_400)),
        ("prefix,destination,rate,initial_increment\n44,UK,0.1,6.5\n", 2, "initial_increment", .invalidInteger("6.5", 0...86_400)),
        ("prefix,destination,rate\n44,UK,0.1\n1,US,0.2\n44,UK,0.3\n", 4, "prefix", .duplicatePrefix("44", firstLine: 2)),
        ("prefix,destination,rate\n44,UK,0.1,x\n", 2, nil, .fieldCount(expected: 3, found: 4)),
        ("prefix,destination,rate\n44,\"UK,0.1\n", 2, nil, .unterminatedQuote),
        ("prefix,destination,rate\n44,U\"K,0.1\n", 2, nil, .quoteInsideField),
        ("", nil, nil, .empty),
    ] as [(String, Int?, String?, DeckError.Reason)])
    func namesFileLineAndColumnOfEachError(csv: String, line: Int?, column: String?, reason: DeckError.Reason) throws {
        let error = try #require(try deckError(csv))
        #expect(error.reason == reason)
        #expect(error.line == line)
        #expect(error.column == column)
        if let line { #expect(error.description.contains("deck.csv:\(line): ")) }
    }

    @Test func missingFileIsAnError() {
        #expect(throws: DeckError(source: "/nonexistent/deck.csv", line: nil, column: nil, reason: .unreadable("no such file"))) {
            try PlanLoader.loadDeck(path: "/nonexistent/deck.csv")
        }
    }

    @Test func readsGzipCompressedDecks() throws {
        let fixture = try PlanFixture(decks: [:])
        let path = try fixture.write("deck.csv", "prefix,destination,rate\n44,UK,0.1\n")
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-f", path]
        try gzip.run()
        gzip.waitUntilExit()
        let deck = try PlanLoader.loadDeck(path: path + ".gz")
        #expect(deck.count == 1)
        let corrupt = try fixture.write("bad.csv.gz", "not gzip")
        #expect(throws: DeckError(source: corrupt, line: nil, column: nil, reason: .unreadable("not valid gzip data"))) {
            try PlanLoader.loadDeck(path: corrupt)
        }
    }

    /// Longest-prefix match against a brute-force reference on random decks and numbers.
    @Test(arguments: 0..<20)
    func longestMatchAgreesWithBruteForce(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed))
        let alphabet = seed % 2 == 0 ? "0123456789" : "0123"  // small alphabets force deep sharing
        var prefixes = Set<String>()
        // Every fourth deck is large enough for the widest root table, with prefixes up to 20 digits.
        let large = seed % 4 == 3
        let target = large ? Int.random(in: 20_000...40_000, using: &random) : Int.random(in: 1...400, using: &random)
        while prefixes.count < target {
            let length = Int.random(in: 1...(large ? 20 : 8), using: &random)
            prefixes.insert(String((0..<length).map { _ in alphabet.randomElement(using: &random) ?? "0" }))
        }
        let ordered = prefixes.shuffled(using: &random)
        let csv = "prefix,destination,rate\n" + ordered.map { "\($0),d\($0),0.1\n" }.joined()
        let deck = try load(csv)
        for _ in 0..<2_000 {
            let length = Int.random(in: 1...(large ? 24 : 15), using: &random)
            let dialled = String((0..<length).map { _ in alphabet.randomElement(using: &random) ?? "0" })
            let expected = (0...length).reversed().lazy.map { String(dialled.prefix($0)) }.first { prefixes.contains($0) }
            let found = deck.longestMatch(number(dialled)).map { deck.prefix(at: $0) }
            #expect(found == expected, "number \(dialled)")
        }
    }

    @Test func dialledNumbersAreValidated() throws {
        #expect(try DialledNumber("+35988").description == "35988")
        #expect(try DialledNumber(String(repeating: "9", count: 32)).count == 32)
        for bad in ["", "+", "12a", "++1", " 1", String(repeating: "1", count: 33)] {
            #expect(throws: RatingError.invalidNumber(bad)) { try DialledNumber(bad) }
        }
    }
}
