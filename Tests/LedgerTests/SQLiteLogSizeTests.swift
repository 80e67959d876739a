import Foundation
import Ledger
import Testing

/// The write-ahead log starts again from the top while commits keep coming, one every few
/// hundred microseconds: it stays near the size at which it restarts (4,096 frames, 17 MB).
/// Left to SQLite's own checkpoint it grew to 16,384 frames (68 MB) and was copied back on the
/// writer, every reply waiting.
struct SQLiteLogSizeTests {
    @Test
    func theLogStartsAgainWhileCommitsKeepComing() async throws {
        let fixture = StoreFixture(.sqlite)
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        let store = try await fixture.open()
        let account = try await StoreFixture.account(in: store, value: "1000000", maxCalls: 10)
        let at = StoreFixture.now
        let log = fixture.directory + "/ledger.sqlite-wal"
        let frame = 4_096 + 24
        // Each reservation and each commit is a transaction of its own, of a few frames: more
        // than the 16,384 at which SQLite's own checkpoint steps in (where the log then stood).
        for call in 0..<calls {
            _ = try await store.reserve(ReservationRequest(key: "call-\(call)", pin: account.pin, amount: 1_000,
                                                          expiresAt: at + 3_600, at: at))
            _ = try await store.commit(key: "call-\(call)", cost: 1_000, details: "", at: at + 1)
        }
        let size = try Self.size(of: log)
        #expect(size < 8_192 * frame, "the log reached \(size / frame) frames")
        await store.close()
    }

    private let calls = 5_000

    private static func size(of path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
    }
}
