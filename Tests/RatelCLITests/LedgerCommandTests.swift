import Foundation
import Testing

@Suite struct LedgerCommandTests {
    private func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("ratel-cli-\(UUID().uuidString)").path
    }

    @Test func generateRechargeShowExportAndCheck() throws {
        let data = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let csv = data + "-cards.csv"
        defer { try? FileManager.default.removeItem(atPath: csv) }
        let generated = try RatelProcess.run(["pins", "generate", "--data", data, "--count", "250", "--value", "5.00",
                                              "--activation", "immediate", "--series", "88", "--out", csv])
        #expect(generated.status == 0, "\(generated.stderr)")
        #expect(generated.stdout == "1\n")
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "pin,password,value,currency,expiry" && lines.count == 251)
        let fields = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        #expect(fields.count == 5 && fields[0].count == 12 && fields[0].hasPrefix("88") && fields[2] == "5.00" && fields[3] == "EUR")
        let pin = fields[0]

        let recharge = try RatelProcess.run(["pins", "recharge", "--data", data, pin, "--amount", "2.50", "--method", "card", "--reference", "tx-1"])
        #expect(recharge.status == 0 && recharge.stdout.contains("\"amount\": \"2.50\""), "\(recharge.stderr)")
        let show = try RatelProcess.run(["pins", "show", "--data", data, pin])
        #expect(show.stdout.contains("\"balance\": \"7.50\"") && show.stdout.contains("\"reference\": \"tx-1\""))

        let export = try RatelProcess.run(["batches", "export", "--data", data, "1"])
        #expect(export.stdout.split(separator: "\n") == lines)
        #expect(try RatelProcess.run(["batches", "disable", "--data", data, "1"]).stdout == "250\n")
        #expect(try RatelProcess.run(["pins", "show", "--data", data, pin]).stdout.contains("\"status\": \"disabled\""))

        let check = try RatelProcess.run(["ledger", "check", "--data", data])
        #expect(check.status == 0 && check.stdout.contains("\"problems\": []") && check.stdout.contains("\"EUR\": \"1252.50\""))
    }

    @Test func printableExportCarriesAFixedExpiryDate() throws {
        let data = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let generated = try RatelProcess.run(["pins", "generate", "--data", data, "--count", "3", "--value", "1",
                                              "--activation", "immediate", "--valid-until", "2028-02-29"])
        #expect(generated.status == 0, "\(generated.stderr)")
        let export = try RatelProcess.run(["batches", "export", "--data", data, "1"])
        let rows = export.stdout.split(separator: "\n").dropFirst()
        #expect(rows.count == 3 && rows.allSatisfy { $0.hasSuffix(",1.00,EUR,2028-02-29") }, "\(export.stdout)")
    }

    @Test func errorsAreOneLineAndChangeNothing() throws {
        let data = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let cases: [([String], String)] = [
            (["pins", "generate", "--data", data, "--count", "5", "--value", "abc"], "not a decimal amount"),
            (["pins", "generate", "--data", data, "--count", "5", "--value", "1", "--activation", "later"], "--activation must be"),
            (["pins", "generate", "--data", data, "--count", "0", "--value", "1"], "count must be"),
            (["pins", "recharge", "--data", data, "4711", "--amount", "1"], "unknown PIN 4711"),
            (["batches", "show", "--data", data, "9"], "unknown batch 9"),
        ]
        for (arguments, message) in cases {
            let result = try RatelProcess.run(arguments)
            #expect(result.status == 1 && result.stderr.contains(message) && result.stderr.split(separator: "\n").count == 1,
                    "\(arguments): \(result.stderr)")
        }
        #expect(try RatelProcess.run(["batches", "list", "--data", data]).stdout.isEmpty)
    }
}
