import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `ratel calls`: the calls in progress on a running server, read from its metrics port, and
/// `ratel calls end KEY`, which has the server send the call's NAS a Disconnect-Request.
struct CallsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calls",
        abstract: "Live calls on a running `ratel serve`: list them, or end one.",
        subcommands: [ListCalls.self, EndCall.self],
        defaultSubcommand: ListCalls.self
    )
}

struct ServerOption: ParsableArguments {
    @Option(help: "HOST:PORT of the server's metrics port (listen.metrics).")
    var server = "127.0.0.1:9812"
}

struct ListCalls: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List live calls: account, destination, start, elapsed time, running cost."
    )

    @OptionGroup var options: ServerOption
    var server: String { options.server }

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
        var lines = [["KEY", "ACCOUNT", "NAS", "NUMBER", "DESTINATION", "STATE", "ANSWERED", "ELAPSED", "COST", "HELD"].joined(separator: "\t")]
        for call in calls {
            let fields = ["key", "account", "nas", "number", "destination", "state", "answered", "elapsed", "running_cost", "held"]
            lines.append(fields.map { key in call[key].map { "\($0)" } ?? "" }.joined(separator: "\t"))
        }
        print(lines.joined(separator: "\n"))
        if calls.isEmpty { print("(no calls in progress)") }
    }
}

struct EndCall: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "end",
        abstract: "End a live call: the server sends its NAS a Disconnect-Request (RFC 5176) and reports the answer."
    )

    @OptionGroup var options: ServerOption

    @Argument(help: "The call's key, as `ratel calls` lists it (NAS/session).")
    var key: String

    func run() async throws {
        var components = URLComponents(string: "http://\(options.server)/calls/end")
        components?.queryItems = [URLQueryItem(name: "key", value: key)]
        guard let url = components?.url else { throw CommandFailure("--server: '\(options.server)' is not HOST:PORT") }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        let (body, response): (Data, URLResponse)
        do {
            (body, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw CommandFailure("cannot reach a running `ratel serve` at \(options.server): \(error.localizedDescription)")
        }
        let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw CommandFailure(text) }
        print(text)
    }
}
