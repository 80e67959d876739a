/// An open-addressing hash table of numbers (an account's place, a reservation's row) that keeps
/// no keys: each slot holds a key's full hash and its number, and the caller says whether the
/// row a number names has the key it looks for. A `Dictionary` of a million keys touched one
/// cache line for its occupancy bits, one for the key (and for a long key, the string's storage)
/// and one for the value, on every look-up, including those that find nothing; here a look-up
/// reads one line of slots, and compares keys only where a full hash matches: in effect, only
/// the row it was looking for, which the caller reads next anyway.
///
/// Linear probing at most half full: a miss reads some three slots, side by side. Removal
/// shifts the following slots back instead of leaving markers, so probes stay short however
/// many keys come and go.
struct HashSlots: Sendable {
    private struct Slot {
        /// 0 marks an empty slot; a key whose hash is 0 is filed as 1.
        var hash: Int
        var value: Int
    }

    /// Where a search ended: at the key's slot (`value` is its number), or at the empty slot
    /// where it would go. Good for one `insert` or `remove`, before anything else changes the table.
    struct Probe {
        fileprivate let position: Int
        fileprivate let hash: Int
        fileprivate let generation: Int
        let value: Int?
    }

    private var slots: [Slot] = []
    private var mask = -1
    private(set) var count = 0
    /// Changes whenever a slot does, so a stale `Probe` is caught rather than trusted.
    private var generation = 0

    private static func stored(_ hash: Int) -> Int { hash == 0 ? 1 : hash }

    /// Makes room for `count` keys without growing.
    mutating func reserveCapacity(_ count: Int) {
        var size = 8
        while size < count * 2 { size *= 2 }
        if size > slots.count { rebuild(size: size) }
    }

    /// Finds `hash`'s key: `matches` says whether the number in a slot with that hash names it.
    func probe(_ hash: Int, matches: (Int) -> Bool) -> Probe {
        let hash = Self.stored(hash)
        guard !slots.isEmpty else { return Probe(position: -1, hash: hash, generation: generation, value: nil) }
        return slots.withUnsafeBufferPointer { slots in
            var position = hash & mask
            while true {
                let slot = slots[position]
                if slot.hash == 0 { return Probe(position: position, hash: hash, generation: generation, value: nil) }
                if slot.hash == hash, matches(slot.value) {
                    return Probe(position: position, hash: hash, generation: generation, value: slot.value)
                }
                position = (position + 1) & mask
            }
        }
    }

    /// Files `value` where `probe` found no key, or in place of the number it found. The probe
    /// must be the table's latest (nothing changed it since).
    mutating func insert(_ value: Int, at probe: Probe) {
        precondition(probe.generation == generation, "a probe is used before the table changes")
        generation &+= 1
        if probe.value != nil {
            slots[probe.position].value = value
            return
        }
        var position = probe.position
        if (count + 1) * 2 > slots.count {
            rebuild(size: max(8, slots.count * 2))
            position = vacancy(for: probe.hash)
        }
        slots[position] = Slot(hash: probe.hash, value: value)
        count += 1
    }

    /// Removes the key `probe` found (nothing if it found none). The probe must be the latest.
    mutating func remove(at probe: Probe) {
        precondition(probe.generation == generation, "a probe is used before the table changes")
        guard probe.value != nil else { return }
        generation &+= 1
        count -= 1
        var hole = probe.position
        var next = (hole + 1) & mask
        // A slot moves back into the hole unless its home lies after the hole (cyclically).
        while slots[next].hash != 0 {
            let home = slots[next].hash & mask
            if (next &- home) & mask >= (next &- hole) & mask {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole] = Slot(hash: 0, value: 0)
    }

    private func vacancy(for hash: Int) -> Int {
        var position = hash & mask
        while slots[position].hash != 0 { position = (position + 1) & mask }
        return position
    }

    private mutating func rebuild(size: Int) {
        let old = slots
        slots = Array(repeating: Slot(hash: 0, value: 0), count: size)
        mask = size - 1
        generation &+= 1
        for slot in old where slot.hash != 0 { slots[vacancy(for: slot.hash)] = slot }
    }
}
