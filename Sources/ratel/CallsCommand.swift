import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `ratel calls`: the calls in progress on a running server, read from its metrics port.
struct CallsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calls",
        abstract: "List live calls: account, destination, start, elapsed time, running cost."
    )

    @Option(help: "HOST:PORT of the server's metrics port (listen.metrics).")
    var server = "127.0.0.1:9812"

    @Flag(help: "Print the server's JSON as it is.")
    var json = false

    func run() async throws {
        guard let url = URL(string: "http://\(server)/calls") else { throw CommandFailure("--server: '\(server)' is not HOST:PORT") }
        let data: Data
        do {
            let (body, response) = try await URLSession.shared.data(from: url)
            guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw CommandFailure("\(url) did not answer 200") }
            data = body
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure("cannot reach a running `ratel serve` at \(server): \(error.localizedDescription)")
        }
        if json {
            FileHandle.standardOutput.write(data)
            return
        }
        guard let calls = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw CommandFailure("\(url) did not return a list of calls")
        }
        var lines = [["ACCOUNT", "NAS", "NUMBER", "DESTINATION", "STATE", "ANSWERED", "ELAPSED", "COST", "HELD"].joined(separator: "\t")]
        for call in calls {
            let fields = ["account", "nas", "number", "destination", "state", "answered", "elapsed", "running_cost", "held"]
            lines.append(fields.map { key in call[key].map { "\($0)" } ?? "" }.joined(separator: "\t"))
        }
        print(lines.joined(separator: "\n"))
        if calls.isEmpty { print("(no calls in progress)") }
    }
}
