import Foundation
import RatingEngine

/// Writes a plan and its decks into a fresh temporary folder and loads it through the public loader.
/// A class so the folder goes when the last test holding it is done (every run left ~100 behind).
final class PlanFixture: Sendable {
    let folder: URL

    deinit {
        try? FileManager.default.removeItem(at: folder)
    }

    init(decks: [String: String]) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ratel-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in decks {
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
    }

    func write(_ name: String, _ text: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func load(_ planText: String) throws -> TariffPlan {
        try PlanLoader.load(path: try write("plan.toml", planText))
    }

    func loadError(_ planText: String) throws -> PlanError? {
        let path = try write("plan.toml", planText)
        do {
            _ = try PlanLoader.load(path: path)
            return nil
        } catch {
            return error
        }
    }
}

/// Seconds since 1970 for an ISO 8601 instant with an explicit offset (test input is trusted).
func instant(_ text: String) -> Int64 {
    guard let zone = ZoneOffsets(identifier: "UTC"), let value = try? Instant.parse(text, zone: zone) else {
        preconditionFailure("bad test instant \(text)")
    }
    return value
}

func number(_ text: String) -> DialledNumber {
    guard let value = try? DialledNumber(text) else { preconditionFailure("bad test number \(text)") }
    return value
}

/// A small deterministic generator so randomised tests replay exactly from their seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
