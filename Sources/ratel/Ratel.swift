import ArgumentParser
import Foundation

/// The `ratel` command line. Every failure is one line on stderr and exit status 1,
/// so scripts and operators can tell success from failure without parsing usage text.
@main
struct Ratel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ratel",
        abstract: "Real-time VoIP rating and prepaid PIN engine.",
        subcommands: [ServeCommand.self, CallsCommand.self, RateCommand.self, PinsCommand.self, BatchesCommand.self, LedgerCommand.self]
    )

    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }
            let message = Ratel.message(for: error).split(separator: "\n").first.map(String.init) ?? "failed"
            FileHandle.standardError.write(Data("ratel: \(message)\n".utf8))
            Foundation.exit(1)
        }
    }
}

/// A failure the CLI reports as its one-line message.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
