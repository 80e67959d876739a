import Glibc

/// An open-addressing hash table of numbers (an account's place, a reservation's row) that keeps
/// no keys: each slot holds a key's full hash and its number, and the caller says whether the
/// row a number names has the key it looks for. A `Dictionary` of a million keys touched one
/// cache line for its occupancy bits, one for the key (and for a long key, the string's storage)
/// and one for the value, on every look-up, including those that find nothing; here a look-up
/// reads one line of slots, and compares keys only where a full hash matches: in effect, only
/// the row it was looking for, which the caller reads next anyway.
///
/// Linear probing at most three quarters full, as a `Dictionary` grows, so a table grows after
/// as many keys as the dictionary did (a growth rehashes every key at once, with every request
/// waiting): a miss then reads from one to a few lines of slots, side by side. Removal
/// shifts the following slots back instead of leaving markers, so probes stay short however
/// many keys come and go.
///
/// The slots live in memory of their own, mapped for huge pages where the table is large: a
/// look-up lands at random in tens of megabytes (a million PINs, a million reservations), and
/// with 4 KiB pages nearly every one also missed the TLB and walked the page tables.
struct HashSlots: Sendable {
    fileprivate struct Slot {
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

    private var storage = SlotStorage(size: 0)
    private var mask = -1
    private(set) var count = 0
    /// Changes whenever a slot does, so a stale `Probe` is caught rather than trusted.
    private var generation = 0

    private static func stored(_ hash: Int) -> Int { hash == 0 ? 1 : hash }

    /// Makes room for `count` keys without growing.
    mutating func reserveCapacity(_ count: Int) {
        var size = 8
        while size * 3 < count * 4 { size *= 2 }
        if size > storage.size { rebuild(size: size) }
    }

    /// Finds `hash`'s key: `matches` says whether the number in a slot with that hash names it.
    func probe(_ hash: Int, matches: (Int) -> Bool) -> Probe {
        let hash = Self.stored(hash)
        guard storage.size > 0 else { return Probe(position: -1, hash: hash, generation: generation, value: nil) }
        let slots = storage.slots
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

    /// Files `value` where `probe` found no key, or in place of the number it found. The probe
    /// must be the table's latest (nothing changed it since).
    mutating func insert(_ value: Int, at probe: Probe) {
        precondition(probe.generation == generation, "a probe is used before the table changes")
        generation &+= 1
        makeUnique()
        if probe.value != nil {
            storage.slots[probe.position].value = value
            return
        }
        var position = probe.position
        if (count + 1) * 4 > storage.size * 3 {
            rebuild(size: max(8, storage.size * 2))
            position = vacancy(for: probe.hash)
        }
        storage.slots[position] = Slot(hash: probe.hash, value: value)
        count += 1
    }

    /// Removes the key `probe` found (nothing if it found none). The probe must be the latest.
    mutating func remove(at probe: Probe) {
        precondition(probe.generation == generation, "a probe is used before the table changes")
        guard probe.value != nil else { return }
        generation &+= 1
        makeUnique()
        count -= 1
        let slots = storage.slots
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
        while storage.slots[position].hash != 0 { position = (position + 1) & mask }
        return position
    }

    /// A copy of the table (a copied book) gets slots of its own before either changes.
    private mutating func makeUnique() {
        guard !isKnownUniquelyReferenced(&storage) else { return }
        let copy = SlotStorage(size: storage.size)
        copy.slots.update(from: storage.slots, count: storage.size)
        storage = copy
    }

    private mutating func rebuild(size: Int) {
        let old = storage
        storage = SlotStorage(size: size)
        mask = size - 1
        generation &+= 1
        for index in 0..<old.size where old.slots[index].hash != 0 {
            let slot = old.slots[index]
            storage.slots[vacancy(for: slot.hash)] = slot
        }
    }
}

/// Slots in an anonymous mapping (zero: every slot starts empty), aligned to and advised for
/// 2 MiB pages once the table is that large.
private final class SlotStorage: @unchecked Sendable {
    // Unchecked: `HashSlots` changes the slots only through a reference it holds alone.
    let slots: UnsafeMutablePointer<HashSlots.Slot>
    let size: Int
    private let mapping: UnsafeMutableRawPointer?
    private let mappedBytes: Int
    private static let hugePage = 2 << 20

    init(size: Int) {
        self.size = size
        let bytes = size * MemoryLayout<HashSlots.Slot>.stride
        guard bytes > 0 else {
            slots = UnsafeMutablePointer(bitPattern: MemoryLayout<HashSlots.Slot>.alignment).unsafelyUnwrapped
            mapping = nil
            mappedBytes = 0
            return
        }
        let huge = bytes >= Self.hugePage
        // Room to slide the start up to a 2 MiB boundary.
        mappedBytes = huge ? bytes + Self.hugePage : bytes
        let mapped = mmap(nil, mappedBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else { fatalError("out of memory for \(bytes) bytes of hash slots") }
        mapping = mapped
        var start = mapped
        if huge {
            let address = Int(bitPattern: mapped)
            start = mapped + ((Self.hugePage - address % Self.hugePage) % Self.hugePage)
            _ = madvise(start, bytes, MADV_HUGEPAGE)
        }
        // Faulted in now (the table is made at start, or grows, under a stall anyway), not by the
        // first look-ups: for an advised range the kernel may compact memory to find a huge page
        // at the fault, tens of milliseconds with every request waiting (seen at half peak).
        start.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        slots = start.bindMemory(to: HashSlots.Slot.self, capacity: size)
    }

    deinit {
        if let mapping { munmap(mapping, mappedBytes) }
    }
}
