import Foundation
import Ledger
import Testing

/// Acknowledged means on disk, power loss included: the embedded store's writer fsyncs every
/// commit (a library default of NORMAL would leave a commit in the operating system's cache).
struct SQLiteDurabilityTests {
    @Test
    func theWriterSyncsEveryCommit() async throws {
        let fixture = StoreFixture(.sqlite)
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        let store = try SQLiteLedgerStore.open(directory: fixture.directory, now: StoreFixture.now)
        #expect(try store.writerSynchronousLevel() == 2)
        await store.close()
    }
}
