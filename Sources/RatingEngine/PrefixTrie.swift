/// A longest-prefix-match index over decimal digit strings, frozen into flat arrays.
///
/// The layout is a multibit trie with leaf pushing, as IP routers use, chosen because a lookup is
/// bound by dependent memory loads that miss the cache (a 317k-prefix deck is far larger than L2):
/// - The root: one slot per value of the first `rootDigits` digits (up to 5, so at most 100k
///   slots, 400 KB).
/// - Below the root, nodes of 100 slots consume two digits at a time, so a 9-digit deck needs two
///   more loads after the root. Both live in `slots`, the root's first.
/// A slot holds either a result (row + 1, 0 for no match: the best match on the way is pushed
/// down into it) or a node (`~offset` of its first slot, negative). Numbers that end inside the
/// trie are rare and take the cold path: `tails` for numbers that end at a node or one digit
/// below it, `shortTables` for numbers shorter than the root.
/// Lookups allocate nothing, and a reload swaps the whole value.
public struct PrefixTrie: Sendable {
    static let nodeWidth = 100
    /// Per node in `tails`: ten slots for a number that ends one digit below it, then one for a number that ends at it.
    static let tailWidth = 11

    let rootDigits: Int
    let slots: [Int32]
    /// Two-digit steps that take any number of at least `rootDigits + 2 * steps` digits to a result.
    let steps: Int
    let tails: [Int32]
    /// Results for numbers shorter than `rootDigits`: length `n` starts at `(10^n - 1) / 9`.
    let shortTables: [Int32]

    /// Slots of the root, which come first in `slots`.
    var rootTableSize: Int { slots.count - nodeCount * PrefixTrie.nodeWidth }

    /// Nodes below the root, for memory accounting.
    public var nodeCount: Int { tails.count / PrefixTrie.tailWidth }

    /// The entry of the longest prefix of `number` in the trie, or -1.
    @inline(__always)
    public func longestMatch(_ number: DialledNumber) -> Int32 {
        guard number.count >= rootDigits &+ 2 &* steps else { return slowMatch(number) }
        var key = 0
        for position in 0..<rootDigits { key = key &* 10 &+ number.digit(at: position) }
        return slots.withUnsafeBufferPointer { table in
            var slot = table[key]
            var position = rootDigits
            // A fixed number of steps and mask arithmetic instead of a loop that exits on a result:
            // a mispredicted exit would stop the processor overlapping consecutive lookups. Once
            // `slot` is a result, the step reads slot 0 and keeps `slot`.
            for _ in 0..<steps {
                let isNode = slot >> 31  // all ones for a node
                let pair = number.digit(at: position) &* 10 &+ number.digit(at: position &+ 1)
                let index = (Int(truncatingIfNeeded: ~slot) &+ pair) & Int(truncatingIfNeeded: isNode)
                slot = (table[index] & isNode) | (slot & ~isNode)
                position &+= 2
            }
            return slot &- 1
        }
    }

    /// The general walk, for numbers that may end inside the trie.
    func slowMatch(_ number: DialledNumber) -> Int32 {
        let count = number.count
        guard count >= rootDigits else {
            var key = 0
            var offset = 0
            var width = 1
            for position in 0..<count {
                key = key * 10 + number.digit(at: position)
                offset += width
                width *= 10
            }
            return shortTables[offset + key] - 1
        }
        var key = 0
        for position in 0..<rootDigits { key = key * 10 + number.digit(at: position) }
        var slot = slots[key]
        var position = rootDigits
        while slot < 0 {
            let offset = Int(~slot)
            let tail = (offset - rootTableSize) / PrefixTrie.nodeWidth * PrefixTrie.tailWidth
            switch count - position {
            case 0: return tails[tail + 10] - 1
            case 1: return tails[tail + number.digit(at: position)] - 1
            default:
                slot = slots[offset + number.digit(at: position) * 10 + number.digit(at: position + 1)]
                position += 2
            }
        }
        return slot - 1
    }

    /// Collects prefixes into a plain ten-way trie, then freezes them into the lookup layout.
    public struct Builder {
        /// Ten child slots per node (0: none), plus the row stored at each node.
        private var children: [Int32] = Array(repeating: 0, count: 10)
        private var entries: [Int32] = [-1]
        private var hasChildren: [Bool] = [false]
        private var maxDepth = 0

        public init() {}

        /// Adds `digits` (values 0-9) for `entry`. Returns the entry already stored there, if any.
        public mutating func insert(_ digits: some Sequence<UInt8>, entry: Int32) -> Int32? {
            var node = 0
            var depth = 0
            for digit in digits {
                precondition(digit < 10, "prefix digits are validated before insertion")
                let slot = node * 10 + Int(digit)
                if children[slot] == 0 {
                    precondition(entries.count < Int(Int32.max) / 10, "trie too large")
                    children[slot] = Int32(entries.count)
                    entries.append(-1)
                    hasChildren.append(false)
                    children.append(contentsOf: repeatElement(0, count: 10))
                }
                hasChildren[node] = true
                node = Int(children[slot])
                depth += 1
            }
            maxDepth = max(maxDepth, depth)
            if entries[node] >= 0 { return entries[node] }
            entries[node] = entry
            return nil
        }

        /// A walk through the builder's trie: the node reached (-1 once off the trie) and the best row on the way.
        private typealias Walk = (node: Int, best: Int32)

        private func step(_ walk: Walk, _ digit: Int) -> Walk {
            guard walk.node >= 0 else { return walk }
            let child = Int(children[walk.node * 10 + digit])
            guard child != 0 else { return (-1, walk.best) }
            return (child, entries[child] >= 0 ? entries[child] : walk.best)
        }

        /// The slot for a walk: a frozen node when longer prefixes continue below, else the pushed-down result.
        private func slot(_ walk: Walk, nodes: inout [Int32], tails: inout [Int32]) -> Int32 {
            guard walk.node >= 0, hasChildren[walk.node] else { return walk.best + 1 }
            let start = nodes.count
            precondition(start < Int(Int32.max) - PrefixTrie.nodeWidth, "trie too large")
            nodes.append(contentsOf: repeatElement(0, count: PrefixTrie.nodeWidth))
            let tail = tails.count
            tails.append(contentsOf: repeatElement(0, count: PrefixTrie.tailWidth))
            tails[tail + 10] = walk.best + 1
            for first in 0..<10 {
                let one = step(walk, first)
                tails[tail + first] = one.best + 1
                for second in 0..<10 {
                    let value = slot(step(one, second), nodes: &nodes, tails: &tails)
                    nodes[start + first * 10 + second] = value
                }
            }
            return ~Int32(start)
        }

        public func build() -> PrefixTrie {
            // Sized to the deck: a 639-prefix deck gets a 1,000-slot root, a large one 100k slots.
            var rootDigits = 2
            while rootDigits < 5, entries.count > 3 * Self.power(rootDigits) { rootDigits += 1 }
            var shortTables: [Int32] = []
            // The root's slots first, then the nodes, so that a node's offset is its index in `table`.
            var table = [Int32](repeating: 0, count: Self.power(rootDigits))
            var tails: [Int32] = []
            for length in 0...rootDigits {
                for key in 0..<Self.power(length) {
                    var walk: Walk = (0, entries[0])
                    var divisor = Self.power(length)
                    for _ in 0..<length {
                        divisor /= 10
                        walk = step(walk, key / divisor % 10)
                    }
                    if length < rootDigits {
                        shortTables.append(walk.best + 1)
                    } else {
                        let value = slot(walk, nodes: &table, tails: &tails)
                        table[key] = value
                    }
                }
            }
            let steps = max(0, (maxDepth - rootDigits + 1) / 2)
            return PrefixTrie(rootDigits: rootDigits, slots: table,
                              steps: steps, tails: tails, shortTables: shortTables)
        }

        private static func power(_ exponent: Int) -> Int {
            var value = 1
            for _ in 0..<exponent { value *= 10 }
            return value
        }
    }
}
