/// A dictionary split over 64 smaller ones by key hash. A Swift dictionary that outgrows its
/// capacity rehashes every entry at once; for a table of a few hundred thousand calls that is
/// tens of milliseconds under the lock every request takes. Split, one growth moves a 64th.
struct ShardedTable<Key: Hashable, Value> {
    static var shardCount: Int { 64 }
    private var shards = [[Key: Value]](repeating: [:], count: Self.shardCount)
    private(set) var count = 0

    private func shard(_ key: Key) -> Int { key.hashValue & (Self.shardCount - 1) }

    subscript(key: Key) -> Value? { shards[shard(key)][key] }

    @discardableResult
    mutating func updateValue(_ value: Value, forKey key: Key) -> Value? {
        let previous = shards[shard(key)].updateValue(value, forKey: key)
        if previous == nil { count += 1 }
        return previous
    }

    @discardableResult
    mutating func removeValue(forKey key: Key) -> Value? {
        let removed = shards[shard(key)].removeValue(forKey: key)
        if removed != nil { count -= 1 }
        return removed
    }

    /// Changes, inserts (nil to a value) or removes (a value to nil) the entry, with one lookup.
    mutating func update<Result>(_ key: Key, _ body: (inout Value?) -> Result) -> Result {
        func apply(_ slot: inout Value?) -> (Result, Int) {
            let before = slot == nil ? 0 : 1
            let result = body(&slot)
            return (result, (slot == nil ? 0 : 1) - before)
        }
        let (result, change) = apply(&shards[shard(key)][key])
        count += change
        return result
    }

    /// One shard's keys or values: whoever reads them all under a lock takes the lock per shard.
    func keys(inShard index: Int) -> [Key] { Array(shards[index].keys) }
    func values(inShard index: Int) -> [Value] { Array(shards[index].values) }

    func keys(inShard index: Int, where matches: (Value) -> Bool) -> [Key] {
        shards[index].compactMap { matches($0.value) ? $0.key : nil }
    }
}
