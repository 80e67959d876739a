import Foundation
import Testing

/// Runs the built `ratel` binary as an operator would and reads what it prints.
struct RatelProcess {
    static let packageRoot = #filePath.components(separatedBy: "/Tests/")[0]

    /// The `ratel` built beside this test bundle (`swift build --build-tests` builds both).
    static var executable: URL {
        get throws {
            let bundleFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            for folder in [bundleFolder, bundleFolder.deletingLastPathComponent()] {
                let candidate = folder.appendingPathComponent("ratel")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            }
            let fallback = URL(fileURLWithPath: packageRoot + "/.build/debug/ratel")
            guard FileManager.default.isExecutableFile(atPath: fallback.path) else {
                throw CLIError("ratel binary not found; run `swift build --build-tests` first")
            }
            return fallback
        }
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = try executable
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: packageRoot)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

@Suite struct RateCommandTests {
    static let retail = "ratesheets/retail/plan.toml"

    private func json(_ text: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw CLIError("not a JSON object: \(text)")
        }
        return object
    }

    @Test func printsTheRatedCallAsJSON() throws {
        // Friday 21:59 in Sofia: one minute at peak, then the night rule.
        let result = try RatelProcess.run(["rate", "--plan", Self.retail, "--number", "+359888123456",
                                           "--start", "2026-11-20T21:59:00+02:00", "--duration", "125", "--budget", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try json(result.stdout)
        #expect(object["number"] as? String == "359888123456")
        #expect(object["prefix"] as? String == "35988")
        #expect(object["destination"] as? String == "Bulgaria - Mobile")
        #expect(object["rule"] as? String == "default")
        #expect(object["billed_seconds"] as? Int == 180)
        #expect(object["cost"] as? String == "1.38")
        #expect(object["currency"] as? String == "EUR")
        #expect(object["max_duration"] as? Int == 120)
        let segments = try #require(object["segments"] as? [[String: Any]])
        #expect(segments.count == 2)
        #expect(segments.map { $0["rule"] as? String } == ["default", "night"])
        #expect(segments.map { $0["rate"] as? String } == ["0.571", "0.3997"])
        #expect(segments.map { $0["seconds"] as? Int } == [60, 120])
        #expect(segments.map { $0["prefix"] as? String } == ["35988", "35988"])
    }

    @Test func leavesOutMaxDurationWithoutABudget() throws {
        let result = try RatelProcess.run(["rate", "--plan", Self.retail, "--number", "4420", "--start",
                                           "2026-11-18T10:00:00Z", "--duration", "0"])
        let object = try json(result.stdout)
        #expect(object["max_duration"] == nil)
        #expect(object["cost"] as? String == "0.00")
        #expect((object["segments"] as? [Any])?.isEmpty == true)
    }

    @Test(arguments: [
        (["--number", "999", "--start", "2026-11-18T10:00:00Z", "--duration", "60"], "no rate for 999"),
        (["--number", "35a", "--start", "2026-11-18T10:00:00Z", "--duration", "60"], "is not a dialled number"),
        (["--number", "359", "--start", "yesterday", "--duration", "60"], "is not an ISO 8601 time"),
        (["--number", "359", "--start", "2026-11-18T10:00:00Z", "--duration", "-5"], "duration"),
        (["--number", "359", "--start", "2026-11-18T10:00:00Z", "--duration", "ten"], "duration"),
        (["--number", "359", "--start", "2026-11-18T10:00:00Z", "--duration", "60", "--budget", "1.0000001"], "budget"),
        (["--number", "359", "--start", "2026-11-18T10:00:00Z", "--duration", "60", "--budget", "5 USD"], "USD"),
        (["--number", "359", "--start", "2026-11-18T10:00:00Z"], "missing --duration"),
        (["--start", "2026-11-18T10:00:00Z", "--duration", "60"], "missing --number"),
        (["--colour", "red"], "colour"),
    ])
    func failsWithOneLineAndStatusOne(arguments: [String], message: String) throws {
        let result = try RatelProcess.run(["rate", "--plan", Self.retail] + arguments)
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func badPlanFailsNamingTheFile() throws {
        let result = try RatelProcess.run(["rate", "--plan", "no/such/plan.toml", "--check"])
        #expect(result.status == 1)
        #expect(result.stderr == "ratel: no/such/plan.toml: cannot read: no such file\n")
    }

    @Test func checkSummarisesPlanAndDecks() throws {
        let result = try RatelProcess.run(["rate", "--plan", "ratesheets/wholesale/plan.toml", "--check"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try json(result.stdout)
        #expect(object["plan"] as? String == "Wholesale USD")
        let decks = try #require(object["decks"] as? [[String: Any]])
        #expect(decks.first?["prefixes"] as? Int ?? 0 >= 30_000)
    }
}
