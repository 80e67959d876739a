/// Values filed by a number (a reservation's, an account's) in chunks of consecutive numbers,
/// found through a dictionary of chunks small enough to stay in cache. Reservation numbers are
/// handed out in order, so a new call lands next to the last one; account numbers are dense.
/// A dictionary of every call made each new one a hash and a probe at a random place in some
/// megabytes (a cache miss or two, and a boxed entry to keep growth cheap): about a twentieth
/// of the event loop's CPU at the PAP peak. A chunk goes when its last value does, and no
/// growth ever copies more than the dictionary of chunks. The price is that one long call keeps
/// its chunk (about 300 KB of calls) alive: at a million calls a day, calls left open for three
/// hours span some 120 chunks, under 40 MB however few of them are still open.
struct NumberedTable<Value> {
    private static var rowShift: Int64 { 10 }
    static var rowsPerChunk: Int64 { 1 << rowShift }

    /// A class, so a value changes in place without copying the chunk out of the dictionary.
    final class Chunk {
        var rows: [Value?]
        var count = 0
        init() { rows = Array(repeating: nil, count: Int(NumberedTable.rowsPerChunk)) }
    }

    private var chunks: [Int64: Chunk] = [:]
    private(set) var count = 0

    /// The shift rounds down, so a number below zero (no store hands one out) has a place too.
    private static func place(_ number: Int64) -> (chunk: Int64, row: Int) {
        (number >> rowShift, Int(number & (rowsPerChunk - 1)))
    }

    subscript(number: Int64) -> Value? {
        let (chunk, row) = Self.place(number)
        return chunks[chunk]?.rows[row]
    }

    private mutating func chunk(_ index: Int64) -> Chunk {
        if let existing = chunks[index] { return existing }
        let made = Chunk()
        chunks[index] = made
        return made
    }

    /// Files `value` unless the number already has one; says whether it did.
    mutating func insertNew(_ number: Int64, _ value: @autoclosure () -> Value) -> Bool {
        let (index, row) = Self.place(number)
        let chunk = chunk(index)
        guard chunk.rows[row] == nil else { return false }
        chunk.rows[row] = value()
        chunk.count += 1
        count += 1
        return true
    }

    /// Changes the value filed under `number` in place; nil when there is none.
    mutating func modify<Result>(_ number: Int64, _ body: (inout Value) -> Result) -> Result? {
        let (index, row) = Self.place(number)
        // Moved out and back: a copy would retain and release every string the value holds.
        guard let chunk = chunks[index], var value = chunk.rows[row].take() else { return nil }
        let result = body(&value)
        chunk.rows[row] = consume value
        return result
    }

    /// Changes, files (nil to a value) or removes (a value to nil) what is under `number`.
    mutating func update<Result>(_ number: Int64, _ body: (inout Value?) -> Result) -> Result {
        let (index, row) = Self.place(number)
        guard chunks[index] != nil else {
            // No chunk: make one only if the body files something.
            var value: Value? = nil
            let result = body(&value)
            if let value { _ = insertNew(number, value) }
            return result
        }
        let chunk = chunk(index)
        let before = chunk.rows[row] == nil ? 0 : 1
        let result = body(&chunk.rows[row])
        let change = (chunk.rows[row] == nil ? 0 : 1) - before
        chunk.count += change
        count += change
        if chunk.count == 0 { chunks[index] = nil }
        return result
    }

    @discardableResult
    mutating func remove(_ number: Int64) -> Value? {
        let (index, row) = Self.place(number)
        guard let chunk = chunks[index], let value = chunk.rows[row].take() else { return nil }
        chunk.count -= 1
        count -= 1
        if chunk.count == 0 { chunks[index] = nil }
        return value
    }

    /// The chunks' numbers, for whoever reads every value under a lock: it takes the lock per chunk.
    var chunkNumbers: [Int64] { Array(chunks.keys) }

    /// One chunk's values with their numbers (none if the chunk has gone since).
    func entries(inChunk index: Int64) -> [(number: Int64, value: Value)] {
        guard let chunk = chunks[index] else { return [] }
        return chunk.rows.indices.compactMap { row in
            chunk.rows[row].map { (index * Self.rowsPerChunk + Int64(row), $0) }
        }
    }
}
