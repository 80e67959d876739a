/// Reservations by key, as the book keeps them: rows in fixed-size chunks, in the order they
/// were made, plus a key index. A dictionary of whole rows made room for a million of them up
/// front (growing later rehashed them all under the book's lock), and each new reservation then
/// landed on a page of that table at random: on a freshly started server nearly every
/// reservation took a page fault, about a fifth of the CPU at peak. Chunked rows are filled in
/// order, so a page serves some twenty reservations, and a full chunk is never copied.
/// Rows are never removed: closed reservations are remembered, so a late Stop still finds them.
public struct ReservationTable: Sendable {
    static let rowsPerChunk = 1024
    private var chunks: [[Reservation]] = []
    private var slots: [String: Int] = [:]

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
        if chunks.last.map({ $0.count == Self.rowsPerChunk }) ?? true {
            chunks.append([])
            chunks[chunks.count - 1].reserveCapacity(Self.rowsPerChunk)
        }
        slots[reservation.key] = count
        chunks[chunks.count - 1].append(reservation)
    }

    /// Every reservation, oldest first.
    public var values: FlattenSequence<[[Reservation]]> { chunks.joined() }
}
