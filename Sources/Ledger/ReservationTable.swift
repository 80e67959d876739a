/// Reservations by key, as the book keeps them: rows in fixed-size chunks, in the order they
/// were made, plus a key index. A dictionary of whole rows made room for a million of them up
/// front (growing later rehashed them all under the book's lock), and each new reservation then
/// landed on a page of that table at random: on a freshly started server nearly every
/// reservation took a page fault, about a fifth of the CPU at peak. Chunked rows are filled in
/// order, so a page serves some twenty reservations, and a full chunk is never copied.
/// Closed reservations are remembered for a while, so a late Stop still finds them; old chunks
/// are then forgotten whole (`forget`), the few rows in them still needed moving to the end.
public struct ReservationTable: Sendable {
    static let rowsPerChunk = 1024
    private var chunks: [[Reservation]] = []
    private var slots: [String: Int] = [:]
    /// Chunks before this one have been forgotten (left empty, so slot numbers stay valid).
    private var firstKeptChunk = 0

    public var count: Int { slots.count }

    mutating func reserveCapacity(_ count: Int) {
        slots.reserveCapacity(count)
        chunks.reserveCapacity(count / Self.rowsPerChunk + 1)
    }

    public subscript(key: String) -> Reservation? {
        guard let slot = slots[key] else { return nil }
        let (chunk, row) = slot.quotientAndRemainder(dividingBy: Self.rowsPerChunk)
        return chunks[chunk][row]
    }

    /// Replaces the reservation with the same key, or adds it.
    mutating func save(_ reservation: Reservation) {
        if let slot = slots[reservation.key] {
            let (chunk, row) = slot.quotientAndRemainder(dividingBy: Self.rowsPerChunk)
            chunks[chunk][row] = reservation
            return
        }
        if chunks.last.map({ $0.count == Self.rowsPerChunk }) ?? true { startChunk() }
        slots[reservation.key] = (chunks.count - 1) * Self.rowsPerChunk + chunks[chunks.count - 1].count
        chunks[chunks.count - 1].append(reservation)
    }

    private mutating func startChunk() {
        chunks.append([])
        chunks[chunks.count - 1].reserveCapacity(Self.rowsPerChunk)
    }

    /// Drops reservations closed before `cutoff`, oldest chunks first, up to `chunkLimit` chunks
    /// (the caller holds the lock every request takes). A chunk is taken only once every row in
    /// it was opened before `cutoff`; its open or recently closed rows move to the end, where a
    /// later pass finds them. Returns how many reservations were forgotten.
    mutating func forget(closedBefore cutoff: Int64, chunkLimit: Int) -> Int {
        var forgotten = 0
        let end = min(chunks.count, firstKeptChunk + chunkLimit)
        while firstKeptChunk < end, !chunks[firstKeptChunk].isEmpty,
              chunks[firstKeptChunk].allSatisfy({ $0.openedAt < cutoff }) {
            let rows = chunks[firstKeptChunk]
            chunks[firstKeptChunk] = []
            firstKeptChunk += 1
            if firstKeptChunk == chunks.count { startChunk() }
            for row in rows {
                slots[row.key] = nil
                if row.state != .open, let closedAt = row.closedAt, closedAt < cutoff {
                    forgotten += 1
                } else {
                    save(row)
                }
            }
        }
        return forgotten
    }

    /// Every reservation, roughly in the order made (a row kept by `forget` moves to the end).
    public var values: FlattenSequence<[[Reservation]]> { chunks.joined() }
}
