/// Reservations by key, as the book keeps them: rows in fixed-size chunks, in the order they
/// were made, plus a key index. A dictionary of whole rows made room for a million of them up
/// front (growing later rehashed them all under the book's lock), and each new reservation then
/// landed on a page of that table at random: on a freshly started server nearly every
/// reservation took a page fault, about a fifth of the CPU at peak. Chunked rows are filled in
/// order, so a page serves some twenty reservations, and a full chunk is never copied.
///
/// Closed reservations are remembered for a week, so a late Stop still finds them and is not
/// billed twice. A whole row (its key, number, destination and call record) took about 700
/// bytes, some 5 GB for a week at a million calls a day; so a row closed for an hour is
/// *settled*: only its number, key and closing time stay, and the store reads the rest back
/// from disk when it is asked for (`find`). Old chunks are forgotten whole (`settle`, then
/// `forget`); the few rows in them still needed move to the end.
public struct ReservationTable: Sendable {
    static let rowsPerChunk = 1024

    struct Settled {
        var id: Int64
        var key: String
        var closedAt: Int64
    }

    private var chunks: [[Reservation]] = []
    private var settled: [[Settled]] = []
    /// Where each key's row is: `slot >= 0` in `chunks`, `slot < 0` at `-slot - 1` in `settled`.
    private var slots: [String: Int] = [:]
    /// Chunks before these have been settled or forgotten (left empty, so slot numbers stay valid).
    private var firstKeptChunk = 0
    private var firstKeptSettledChunk = 0

    public var count: Int { slots.count }

    mutating func reserveCapacity(_ count: Int) {
        slots.reserveCapacity(count)
        chunks.reserveCapacity(count / Self.rowsPerChunk + 1)
    }

    /// The whole row, if it is kept in memory: nil for an unknown key *and* for a settled one.
    /// Only for looking at open reservations, which are never settled.
    subscript(open key: String) -> Reservation? {
        guard let slot = slots[key], slot >= 0 else { return nil }
        let (chunk, row) = slot.quotientAndRemainder(dividingBy: Self.rowsPerChunk)
        return chunks[chunk][row]
    }

    /// The row under `key`, nil if there is none; a settled row throws `reservationOnDisk` with
    /// its number, for the store to read it back (and `restore` it before changing it).
    public func find(_ key: String) throws(LedgerError) -> Reservation? {
        guard let slot = slots[key] else { return nil }
        if slot < 0 {
            let (chunk, row) = (-slot - 1).quotientAndRemainder(dividingBy: Self.rowsPerChunk)
            throw .reservationOnDisk(key: key, id: settled[chunk][row].id)
        }
        let (chunk, row) = slot.quotientAndRemainder(dividingBy: Self.rowsPerChunk)
        return chunks[chunk][row]
    }

    /// Replaces the reservation with the same key, or adds it.
    mutating func save(_ reservation: Reservation) {
        if let slot = slots[reservation.key], slot >= 0 {
            let (chunk, row) = slot.quotientAndRemainder(dividingBy: Self.rowsPerChunk)
            chunks[chunk][row] = reservation
            return
        }
        add(reservation)
    }

    /// Adds a reservation under a key that `find` has just found no row for (a new call's
    /// reservation), without looking the key up again as `save` does.
    mutating func add(_ reservation: Reservation) {
        if chunks.last.map({ $0.count == Self.rowsPerChunk }) ?? true { Self.startChunk(&chunks) }
        slots[reservation.key] = (chunks.count - 1) * Self.rowsPerChunk + chunks[chunks.count - 1].count
        chunks[chunks.count - 1].append(reservation)
    }

    /// A settled row read back from disk, whole again (until a later `settle`); a row that is no
    /// longer settled under its key is left as it is.
    mutating func restore(_ reservation: Reservation) {
        guard let slot = slots[reservation.key], slot < 0 else { return }
        slots[reservation.key] = nil
        save(reservation)
    }

    /// Keeps a closed row settled from the start (a store loading what closed long ago).
    mutating func saveSettled(id: Int64, key: String, closedAt: Int64) {
        if settled.last.map({ $0.count == Self.rowsPerChunk }) ?? true { Self.startChunk(&settled) }
        slots[key] = -((settled.count - 1) * Self.rowsPerChunk + settled[settled.count - 1].count) - 1
        settled[settled.count - 1].append(Settled(id: id, key: key, closedAt: closedAt))
    }

    private static func startChunk<Row>(_ chunks: inout [[Row]]) {
        chunks.append([])
        chunks[chunks.count - 1].reserveCapacity(rowsPerChunk)
    }

    /// Settles the reservations closed before `cutoff`, oldest chunks first, up to `chunkLimit`
    /// chunks (the caller holds the lock every request takes). A chunk is taken only once every
    /// row in it was opened before `cutoff`; its open or recently closed rows move to the end,
    /// where a later pass finds them. Returns how many rows were settled.
    mutating func settle(closedBefore cutoff: Int64, chunkLimit: Int) -> Int {
        var count = 0
        let end = min(chunks.count, firstKeptChunk + chunkLimit)
        while firstKeptChunk < end, !chunks[firstKeptChunk].isEmpty,
              chunks[firstKeptChunk].allSatisfy({ $0.openedAt < cutoff }) {
            let rows = chunks[firstKeptChunk]
            chunks[firstKeptChunk] = []
            firstKeptChunk += 1
            if firstKeptChunk == chunks.count { Self.startChunk(&chunks) }
            for row in rows {
                slots[row.key] = nil
                if row.state != .open, let closedAt = row.closedAt, closedAt < cutoff {
                    saveSettled(id: row.id, key: row.key, closedAt: closedAt)
                    count += 1
                } else {
                    save(row)
                }
            }
        }
        return count
    }

    /// Forgets settled reservations closed before `cutoff`, oldest chunks first, up to
    /// `chunkLimit` chunks: a chunk goes once every row in it closed before `cutoff` (rows settle
    /// about in the order they closed, so a late one holds its chunk back only a little).
    /// Returns how many reservations were forgotten.
    mutating func forget(closedBefore cutoff: Int64, chunkLimit: Int) -> Int {
        var forgotten = 0
        let end = min(settled.count, firstKeptSettledChunk + chunkLimit)
        while firstKeptSettledChunk < end, !settled[firstKeptSettledChunk].isEmpty,
              settled[firstKeptSettledChunk].allSatisfy({ $0.closedAt < cutoff }) {
            let chunk = firstKeptSettledChunk
            for (index, row) in settled[chunk].enumerated() {
                // A row restored since then is filed elsewhere now and stays.
                if slots[row.key] == -(chunk * Self.rowsPerChunk + index) - 1 {
                    slots[row.key] = nil
                    forgotten += 1
                }
            }
            settled[chunk] = []
            firstKeptSettledChunk += 1
            if firstKeptSettledChunk == settled.count { Self.startChunk(&settled) }
        }
        return forgotten
    }

    /// Every reservation kept whole, roughly in the order made (a row kept by `settle` moves to
    /// the end): every open one, and those closed within the last hour or so.
    public var values: FlattenSequence<[[Reservation]]> { chunks.joined() }
}
