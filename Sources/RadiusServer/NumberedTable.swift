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
    /// Its rows are left uninitialised until filed (a bit per row says which hold a value):
    /// filling a new chunk's 300 KB with empty rows up front cost a page fault and a copy per
    /// page, about 2% of the event loop's CPU at the PAP peak, for rows filed one by one later.
    final class Chunk {
        private let rows = UnsafeMutablePointer<Value>.allocate(capacity: Int(NumberedTable.rowsPerChunk))
        private var filled = [UInt64](repeating: 0, count: Int(NumberedTable.rowsPerChunk) / 64)
        private(set) var count = 0

        deinit {
            for row in 0..<Int(NumberedTable.rowsPerChunk) where holds(row) { (rows + row).deinitialize(count: 1) }
            rows.deallocate()
        }

        func holds(_ row: Int) -> Bool { filled[row >> 6] & (1 << UInt64(row & 63)) != 0 }

        subscript(row: Int) -> Value? { holds(row) ? rows[row] : nil }

        /// Files `value` in an empty row.
        func fill(_ row: Int, with value: consuming Value) {
            precondition(!holds(row), "a row is filled once")
            (rows + row).initialize(to: value)
            filled[row >> 6] |= 1 << UInt64(row & 63)
            count += 1
        }

        /// Moves the row's value out, leaving the row empty.
        func take(_ row: Int) -> Value? {
            guard holds(row) else { return nil }
            filled[row >> 6] &= ~(1 << UInt64(row & 63))
            count -= 1
            return (rows + row).move()
        }
    }

    private var chunks: [Int64: Chunk] = [:]
    private(set) var count = 0

    /// The shift rounds down, so a number below zero (no store hands one out) has a place too.
    private static func place(_ number: Int64) -> (chunk: Int64, row: Int) {
        (number >> rowShift, Int(number & (rowsPerChunk - 1)))
    }

    subscript(number: Int64) -> Value? {
        let (chunk, row) = Self.place(number)
        return chunks[chunk]?[row]
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
        guard !chunk.holds(row) else { return false }
        chunk.fill(row, with: value())
        count += 1
        return true
    }

    /// Changes the value filed under `number` in place; nil when there is none.
    mutating func modify<Result>(_ number: Int64, _ body: (inout Value) -> Result) -> Result? {
        let (index, row) = Self.place(number)
        // Moved out and back: a copy would retain and release every string the value holds.
        guard let chunk = chunks[index], var value = chunk.take(row) else { return nil }
        let result = body(&value)
        chunk.fill(row, with: value)
        return result
    }

    /// Changes, files (nil to a value) or removes (a value to nil) what is under `number`.
    mutating func update<Result>(_ number: Int64, _ body: (inout Value?) -> Result) -> Result {
        let (index, row) = Self.place(number)
        guard let chunk = chunks[index] else {
            // No chunk: make one only if the body files something.
            var value: Value? = nil
            let result = body(&value)
            if let value { _ = insertNew(number, value) }
            return result
        }
        var value = chunk.take(row)
        let before = value == nil ? 0 : 1
        let result = body(&value)
        if let value { chunk.fill(row, with: value) }
        count += (value == nil ? 0 : 1) - before
        if chunk.count == 0 { chunks[index] = nil }
        return result
    }

    @discardableResult
    mutating func remove(_ number: Int64) -> Value? {
        let (index, row) = Self.place(number)
        guard let chunk = chunks[index], let value = chunk.take(row) else { return nil }
        count -= 1
        if chunk.count == 0 { chunks[index] = nil }
        return value
    }

    /// The chunks' numbers, for whoever reads every value under a lock: it takes the lock per chunk.
    var chunkNumbers: [Int64] { Array(chunks.keys) }

    /// One chunk's numbers, read from its bitmap of filled rows without copying a value out.
    func numbers(inChunk index: Int64) -> [Int64] {
        guard let chunk = chunks[index] else { return [] }
        var numbers: [Int64] = []
        numbers.reserveCapacity(chunk.count)
        for row in 0..<Int(Self.rowsPerChunk) where chunk.holds(row) { numbers.append(index * Self.rowsPerChunk + Int64(row)) }
        return numbers
    }

    /// One chunk's values with their numbers (none if the chunk has gone since).
    func entries(inChunk index: Int64) -> [(number: Int64, value: Value)] {
        guard let chunk = chunks[index] else { return [] }
        return (0..<Int(Self.rowsPerChunk)).compactMap { row in
            chunk[row].map { (index * Self.rowsPerChunk + Int64(row), $0) }
        }
    }
}
