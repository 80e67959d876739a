import Foundation
import Ledger

/// A LedgerCrashDriver child process on a fixture's store, started and ready for commands:
/// the crash test kills it, the two-node test runs two of them side by side.
struct LedgerDriver {
    let process: Process
    let input: FileHandle
    let output: FileHandle

    static var executable: URL {
        get throws {
            let bundleFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            let root = #filePath.components(separatedBy: "/Tests/")[0]
            for folder in [bundleFolder, bundleFolder.deletingLastPathComponent(), URL(fileURLWithPath: root + "/.build/debug")] {
                let candidate = folder.appendingPathComponent("LedgerCrashDriver")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            }
            throw LedgerError.invalid("LedgerCrashDriver not built; run `swift build --build-tests` first")
        }
    }

    /// Starts the driver on `fixture`'s store (its directory, and its database for PostgreSQL) and
    /// returns once it has opened the store and said "ready".
    static func start(_ fixture: StoreFixture) async throws -> LedgerDriver {
        let process = Process()
        process.executableURL = try executable
        switch fixture.kind {
        case .sqlite: process.arguments = [fixture.directory]
        case .postgres: process.arguments = [fixture.directory, try await TestPostgres.database(fixture.database)]
        }
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var received = Data()
        while !String(decoding: received, as: UTF8.self).contains("ready\n") {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw LedgerError.storage("LedgerCrashDriver exited before it was ready") }
            received.append(chunk)
        }
        return LedgerDriver(process: process, input: input.fileHandleForWriting, output: output.fileHandleForReading)
    }

    /// Sends one command per line from a thread of its own, so a full pipe never blocks the test.
    func send(_ lines: [String]) {
        let payload = Data(lines.map { $0 + "\n" }.joined().utf8)
        let writer = input
        Thread { try? writer.write(contentsOf: payload) }.start()
    }
}
