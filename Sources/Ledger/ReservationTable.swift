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
    private var slots = HashSlots()
    /// Chunks before these have been settled or forgotten (left empty, so slot numbers stay valid).
    private var firstKeptChunk = 0
    private var firstKeptSettledChunk = 0

    public var count: Int { slots.count }

    mutating func reserveCapacity(_ count: Int) {
        slots.reserveCapacity(count)
        chunks.reserveCapacity(count / Self.rowsPerChunk + 1)
    }

    private func key(at slot: Int) -> String {
        if slot >= 0 {
            let (chunk, row) = slot.quotientAndRemainder(dividingBy: Self.rowsPerChunk)
            return chunks[chunk][row].key
        }
        let (chunk, row) = (-slot - 1).quotientAndRemainder(dividingBy: Self.rowsPerChunk)
        return settled[chunk][row].key
    }

    private func probe(_ key: String) -> HashSlots.Probe {
        slots.probe(key.hashValue) { self.key(at: $0) == key }
    }

    /// The whole row, if it is kept in memory: nil for an unknown key *and* for a settled one.
    /// Only for looking at open reservations, which are never settled.
    subscript(open key: String) -> Reservation? {
        guard let slot = probe(key).value, slot >= 0 else { return nil }
        let (chunk, row) = slot.quotientAndRemainder(dividingBy: Self.rowsPerChunk)
        return chunks[chunk][row]
    }

    /// Where a key that has no row goes, found by `locate` for `add`.
    struct Vacancy {
        fileprivate let probe: HashSlots.Probe
    }

    enum Location {
        case row(Reservation)
        case vacant(Vacancy)
    }

    /// The row under `key`, or where a new row under it would be filed; a settled row throws
    /// `reservationOnDisk` with its number, for the store to read it back (and `restore` it
    /// before changing it).
    func locate(_ key: String) throws(LedgerError) -> Location {
        let probe = probe(key)
        guard let slot = probe.value else { return .vacant(Vacancy(probe: probe)) }
        if slot < 0 {
            let (chunk, row) = (-slot - 1).quotientAndRemainder(dividingBy: Self.rowsPerChunk)
            throw .reservationOnDisk(key: key, id: settled[chunk][row].id)
        }
        let (chunk, row) = slot.quotientAndRemainder(dividingBy: Self.rowsPerChunk)
        return .row(chunks[chunk][row])
    }

    /// The row under `key`, nil if there is none; a settled row throws as `locate` does.
    public func find(_ key: String) throws(LedgerError) -> Reservation? {
        if case .row(let reservation) = try locate(key) { return reservation }
        return nil
    }

    /// Replaces the reservation with the same key, or adds it.
    mutating func save(_ reservation: Reservation) {
        let probe = probe(reservation.key)
        if let slot = probe.value, slot >= 0 {
            let (chunk, row) = slot.quotientAndRemainder(dividingBy: Self.rowsPerChunk)
            chunks[chunk][row] = reservation
            return
        }
        append(reservation, at: probe)
    }

    /// Adds a new call's reservation where `locate` found no row for its key, without looking
    /// the key up again as `save` does. Nothing may change the table in between.
    mutating func add(_ reservation: Reservation, at vacancy: Vacancy) {
        append(reservation, at: vacancy.probe)
    }

    private mutating func append(_ reservation: Reservation, at probe: HashSlots.Probe) {
        if chunks.last.map({ $0.count == Self.rowsPerChunk }) ?? true { Self.startChunk(&chunks) }
        slots.insert((chunks.count - 1) * Self.rowsPerChunk + chunks[chunks.count - 1].count, at: probe)
        chunks[chunks.count - 1].append(reservation)
    }

    /// A settled row read back from disk, whole again (until a later `settle`); a row that is no
    /// longer settled under its key is left as it is.
    mutating func restore(_ reservation: Reservation) {
        let probe = probe(reservation.key)
        guard let slot = probe.value, slot < 0 else { return }
        append(reservation, at: probe)
    }

    /// Keeps a closed row settled from the start (a store loading what closed long ago).
    mutating func saveSettled(id: Int64, key: String, closedAt: Int64) {
        let probe = probe(key)
        if settled.last.map({ $0.count == Self.rowsPerChunk }) ?? true { Self.startChunk(&settled) }
        slots.insert(-((settled.count - 1) * Self.rowsPerChunk + settled[settled.count - 1].count) - 1, at: probe)
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
            // Unfiled while the chunk still holds them: a key is checked against its row.
            for (index, row) in rows.enumerated() {
                let probe = probe(row.key)
                if probe.value == firstKeptChunk * Self.rowsPerChunk + index { slots.remove(at: probe) }
            }
            chunks[firstKeptChunk] = []
            firstKeptChunk += 1
            if firstKeptChunk == chunks.count { Self.startChunk(&chunks) }
            for row in rows {
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
                let probe = probe(row.key)
                if probe.value == -(chunk * Self.rowsPerChunk + index) - 1 {
                    slots.remove(at: probe)
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
