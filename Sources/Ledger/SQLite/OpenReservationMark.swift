internal import GRDB
import Synchronization

/// The number at or above which every open reservation lies (`reservation_marks.oldest_open`):
/// the start reads open reservations from there instead of keeping an index of them. Numbers
/// are given in order and written in order, and a closed reservation never opens again, so a
/// mark that was true of the table once stays true for good; it lags, and the start then reads
/// a little more. It is moved up from a read of the table now and then, off the request path,
/// and written with the writer's next group.
final class OpenReservationMark: Sendable {
    private let found = Mutex<Int64?>(nil)
    /// The last mark stored while packed rows below it may be left; only the writer uses it.
    private let forgetting = Mutex<Int64?>(nil)

    /// Finds, in one snapshot, the lowest open reservation at or above the stored mark, or one
    /// past the highest stored if none is open: the walk covers what closed since the last time.
    func advance(reading db: Database) throws {
        let stored = try Self.stored(db)
        var reader = try OpenReservationReader(db, from: stored)
        let mark: Int64
        if let open = try reader.next() {
            mark = open.id
        } else {
            mark = max(stored, try OpenedReservations.highestWritten(db) + 1)
        }
        found.withLock { found in found = max(found ?? mark, mark) }
    }

    /// In the writer's transaction: stores the mark found since the last group, if any, and
    /// drops a few of the packed rows it has passed, the rest with the next writes; on the way
    /// out (`all`), every one.
    func write(into db: Database, all: Bool = false) throws {
        if let mark = found.withLock({ found in defer { found = nil }; return found }) {
            try db.cachedStatement(sql: "UPDATE reservation_marks SET oldest_open = ? WHERE oldest_open < ?").execute(arguments: [mark, mark])
            forgetting.withLock { $0 = max($0 ?? mark, mark) }
        }
        guard let below = forgetting.withLock({ $0 }) else { return }
        while try OpenedReservations.forget(below: below, in: db) == OpenedReservations.forgottenPerWrite {
            if !all { return }
        }
        forgetting.withLock { if $0 == below { $0 = nil } }
    }

    static func stored(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT oldest_open FROM reservation_marks") ?? 1
    }
}
