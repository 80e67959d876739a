import Foundation
import RatingEngine
import Testing

@Suite struct PlanLoaderTests {
    static let header = "name = \"P\"\ncurrency = \"EUR\"\ndefault = \"std.csv\"\n"

    @Test func appliesDocumentedDefaults() throws {
        let plan = try TestDecks.fixture().load(PlanLoaderTests.header)
        #expect(plan.zone.identifier == "UTC")
        #expect(plan.decimals == 2)
        #expect(plan.rounding == .up)
        #expect(plan.split)
        #expect(plan.maxDurationSeconds == 10_800)
        #expect(plan.rules.isEmpty)
    }

    @Test func sharesOneDeckBetweenRules() throws {
        let plan = try TestDecks.fixture().load(PlanLoaderTests.header + """
            [[rule]]
            name = "a"
            deck = "night.csv"
            days = ["Saturday"]
            [[rule]]
            name = "b"
            deck = "night.csv"
            from = "00:00"
            to = "24:00"
            """)
        #expect(plan.decks.count == 2)
        #expect(plan.rules.map(\.deckIndex) == [1, 1])
    }

    @Test(arguments: [
        ("colour = \"red\"", "colour"),
        ("timezone = \"Mars/Olympus\"", "timezone"),
        ("rounding = \"nearest\"", "rounding"),
        ("decimals = 7", "decimals"),
        ("decimals = \"2\"", "decimals"),
        ("split = \"yes\"", "split"),
        ("max_duration = 0", "max_duration"),
        ("[[rule]]\nname = \"n\"\ndeck = \"night.csv\"\nfrom = \"22:00\"", "rule[1].to"),
        ("[[rule]]\nname = \"n\"\ndeck = \"night.csv\"\nto = \"07:00\"", "rule[1].from"),
        ("[[rule]]\nname = \"n\"\ndeck = \"night.csv\"\nfrom = \"25:00\"\nto = \"07:00\"", "rule[1].from"),
        ("[[rule]]\nname = \"n\"\ndeck = \"night.csv\"\nfrom = \"07:00\"\nto = \"07:00\"", "rule[1].to"),
        ("[[rule]]\nname = \"n\"\ndeck = \"night.csv\"\ndays = [\"funday\"]", "rule[1].days"),
        ("[[rule]]\nname = \"n\"\ndeck = \"night.csv\"\ndays = []", "rule[1].days"),
        ("[[rule]]\nname = \"n\"\ndeck = \"night.csv\"\ndates = [\"02-30\"]", "rule[1].dates"),
        ("[[rule]]\nname = \"n\"\ndeck = \"night.csv\"\ndates = [\"2027-02-29\"]", "rule[1].dates"),
        ("[[rule]]\nname = \"n\"\ndeck = \"night.csv\"\ndates = [\"12/25\"]", "rule[1].dates"),
        ("[[rule]]\nname = \"n\"\ndeck = \"night.csv\"\nhours = 3", "rule[1].hours"),
        ("[[rule]]\nname = \"default\"\ndeck = \"night.csv\"", "rule[1].name"),
        ("[[rule]]\nname = \"n\"\ndeck = \"missing.csv\"", "rule[1].deck"),
        ("[[rule]]\nname = \"n\"", "rule[1].deck"),
        ("[[rule]]\nname = \"n\"\ndeck = \"night.csv\"\n[[rule]]\nname = \"n\"\ndeck = \"night.csv\"", "rule[2].name"),
        ("rule = 3", "rule"),
    ])
    func namesTheOffendingKey(extra: String, key: String) throws {
        let error = try #require(try TestDecks.fixture().loadError(PlanLoaderTests.header + extra))
        #expect(error.key == key, "\(error)")
    }

    @Test func requiresNameCurrencyAndDefault() throws {
        let fixture = try TestDecks.fixture()
        #expect(try fixture.loadError("currency = \"EUR\"\ndefault = \"std.csv\"")?.key == "name")
        #expect(try fixture.loadError("name = \"P\"\ndefault = \"std.csv\"")?.key == "currency")
        #expect(try fixture.loadError("name = \"P\"\ncurrency = \"euro\"\ndefault = \"std.csv\"")?.key == "currency")
        #expect(try fixture.loadError("name = \"P\"\ncurrency = \"EUR\"")?.key == "default")
    }

    @Test func reportsTOMLSyntaxWithItsLine() throws {
        let error = try #require(try TestDecks.fixture().loadError("name = \"P\"\ncurrency = EUR\n"))
        #expect(error.key == nil)
        #expect(error.description.contains("line 2"))
    }

    @Test func deckErrorsCarryTheirLocation() throws {
        let fixture = try TestDecks.fixture()
        _ = try fixture.write("broken.csv", "prefix,destination,rate\n44,UK,0.1\n44,UK,0.2\n")
        let error = try #require(try fixture.loadError("name = \"P\"\ncurrency = \"EUR\"\ndefault = \"broken.csv\""))
        #expect(error.key == "default")
        #expect(error.description.contains("broken.csv:3: column 'prefix': prefix 44 already defined on line 2"))
    }

    @Test func loadsTheShippedPlans() throws {
        let root = #filePath.components(separatedBy: "/Tests/")[0]
        for name in ["retail", "wholesale", "full"] {
            let plan = try PlanLoader.load(path: "\(root)/ratesheets/\(name)/plan.toml")
            #expect(plan.decks[plan.defaultDeckIndex].count > 600)
        }
    }
}
