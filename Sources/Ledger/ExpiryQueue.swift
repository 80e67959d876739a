public import HeapModule

/// When something falls due: an open reservation in the book (by key), a live call in the
/// RADIUS server (by reservation number).
public struct Expiry<Key: Hashable & Sendable>: Sendable, Equatable {
    public let at: Int64
    public let key: Key

    @inlinable public init(at: Int64, key: Key) {
        self.at = at
        self.key = key
    }
}

/// Keys by the second they fall due, so a sweep touches only what is due. A heap of every open
/// reservation grew by copying all of its hundreds of thousands of entries at once, under the
/// lock every request takes (a 100 ms stall in the benchmark's latency phase); here only one
/// second's bucket, or the short heap of seconds, ever grows at a time.
///
/// Inlinable so that another module's use (the RADIUS server's live calls) is specialised for its
/// key: called generically, each insert looked up type metadata at run time, and the inserts took
/// 2.7% of the event loop's samples at the PAP peak (1.0-1.3% specialised).
public struct ExpiryQueue<Key: Hashable & Sendable>: Sendable {
    @usableFromInline var buckets: [Int64: [Key]] = [:]
    /// The seconds that have a bucket.
    @usableFromInline var seconds = Heap<Int64>()

    @inlinable public init() {}

    @inlinable public mutating func insert(_ expiry: Expiry<Key>) {
        if buckets[expiry.at] == nil { seconds.insert(expiry.at) }
        buckets[expiry.at, default: []].append(expiry.key)
    }

    /// Every key still queued, once per time it was queued: each open reservation's, and some
    /// whose reservation has since closed or moved.
    public var keys: FlattenSequence<Dictionary<Int64, [Key]>.Values> { buckets.values.joined() }

    /// Takes out everything due at or before `now`, earliest second first. Entries are not
    /// removed when their call ends or moves: the caller checks each against what it holds.
    @inlinable public mutating func removeDue(now: Int64) -> [Expiry<Key>] {
        var due: [Expiry<Key>] = []
        while let second = seconds.min, second <= now {
            _ = seconds.popMin()
            for key in buckets.removeValue(forKey: second) ?? [] { due.append(Expiry(at: second, key: key)) }
        }
        return due
    }
}
