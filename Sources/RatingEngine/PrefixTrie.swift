/// A longest-prefix-match index over decimal digit strings, frozen into flat arrays.
///
/// Layout, chosen for lookups that miss the cache (a 317k-prefix deck is far larger than L2):
/// - `nodes`: 12 bytes each, breadth-first; a node's children are stored together in digit order,
///   so a child is `firstChild + popcount(childMask below the digit)`. Node 0 is a sink: its mask is
///   empty and its children are itself, so a walk that falls off the trie stays there.
/// - `rootTable`: the node reached after the first `rootDigits` (2, 4 or 6) digits, and the best row seen on
///   the way, indexed by those digits: one load replaces the top levels of the walk.
/// A lookup then runs a fixed number of steps (the deck's longest prefix) with no data-dependent
/// branch, so the processor can overlap the memory loads of consecutive lookups. It allocates
/// nothing, and a reload swaps the whole value.
public struct PrefixTrie: Sendable {
    /// Digits the root table consumes: sized to the deck, so that the table (8 bytes a slot) stays
    /// below the node array's size and a small deck does not carry a 1M-slot table.
    let rootDigits: Int

    struct Node: Sendable {
        var childMask: UInt32
        /// Row stored at this node, or -1.
        var entry: Int32
        var firstChild: Int32

        // Both steps are mask arithmetic rather than `? :` on purpose: nothing here may branch on the
        // digits, since a mispredicted branch stops the processor overlapping consecutive lookups.

        /// The child for `digit`, or the sink (0) when there is none: the one step every walk takes.
        @inline(__always)
        func child(_ digit: Int) -> Int {
            let shift = UInt32(truncatingIfNeeded: digit)
            let present = Int(truncatingIfNeeded: (childMask >> shift) & 1)
            let below = (childMask & ((UInt32(1) << shift) &- 1)).nonzeroBitCount
            return (Int(firstChild) &+ below) & (0 &- present)
        }

        /// The longest match so far once this node is reached.
        @inline(__always)
        func best(after previous: Int32) -> Int32 {
            let absent = entry >> 31  // all ones when this node stores no row
            return (previous & absent) | (entry & ~absent)
        }
    }

    struct RootSlot: Sendable {
        var node: Int32
        var best: Int32
    }

    let nodes: [Node]
    let rootTable: [RootSlot]
    /// Digits in the longest prefix; no walk goes deeper.
    let maxDepth: Int

    /// Number of nodes, for memory accounting (the sink included).
    public var nodeCount: Int { nodes.count }

    /// The entry of the longest prefix of `number` in the trie, or -1.
    public func longestMatch(_ number: DialledNumber) -> Int32 {
        let limit = min(number.count, maxDepth)
        guard number.count >= rootDigits else { return walk(number, from: 1, consumed: 0, best: -1, limit: limit) }
        var key = number.digit(at: 0) &* 10 &+ number.digit(at: 1)
        if rootDigits >= 4 { key = (key &* 10 &+ number.digit(at: 2)) &* 10 &+ number.digit(at: 3) }
        if rootDigits == 6 { key = (key &* 10 &+ number.digit(at: 4)) &* 10 &+ number.digit(at: 5) }
        let slot = rootTable.withUnsafeBufferPointer { $0[key] }
        return walk(number, from: Int(slot.node), consumed: rootDigits, best: slot.best, limit: limit)
    }

    @inline(__always)
    func walk(_ number: DialledNumber, from start: Int, consumed: Int, best initialBest: Int32, limit: Int) -> Int32 {
        nodes.withUnsafeBufferPointer { table in
            var node = start
            var best = initialBest
            var position = consumed
            while position < limit {
                let current = table[node]
                best = current.best(after: best)
                node = current.child(number.digit(at: position))
                position &+= 1
            }
            return table[node].best(after: best)
        }
    }

    /// Collects prefixes, then freezes them into the lookup layout.
    public struct Builder {
        /// Ten child slots per node (0: none), plus the row stored at each node.
        private var children: [Int32] = Array(repeating: 0, count: 10)
        private var entries: [Int32] = [-1]
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
                    children.append(contentsOf: repeatElement(0, count: 10))
                }
                node = Int(children[slot])
                depth += 1
            }
            maxDepth = max(maxDepth, depth)
            if entries[node] >= 0 { return entries[node] }
            entries[node] = entry
            return nil
        }

        public func build() -> PrefixTrie {
            // Breadth-first renumbering: builder node -> frozen index (0 is the sink, 1 the root).
            var nodes = [Node(childMask: 0, entry: -1, firstChild: 0)]
            nodes.reserveCapacity(entries.count + 1)
            var order = [0]
            var head = 0
            nodes.append(Node(childMask: 0, entry: entries[0], firstChild: 0))
            while head < order.count {
                let builderNode = order[head]
                let frozen = head + 1
                head += 1
                var mask: UInt32 = 0
                let first = nodes.count
                for digit in 0..<10 {
                    let child = Int(children[builderNode * 10 + digit])
                    guard child != 0 else { continue }
                    mask |= 1 << UInt32(digit)
                    order.append(child)
                    nodes.append(Node(childMask: 0, entry: entries[child], firstChild: 0))
                }
                nodes[frozen].childMask = mask
                nodes[frozen].firstChild = mask == 0 ? 0 : Int32(first)
            }
            let rootDigits = nodes.count > 200_000 ? 6 : nodes.count > 20_000 ? 4 : 2
            var tableSize = 1
            for _ in 0..<rootDigits { tableSize *= 10 }
            var rootTable: [RootSlot] = []
            rootTable.reserveCapacity(tableSize)
            for key in 0..<tableSize {
                var node = 1
                var best: Int32 = -1
                var divisor = tableSize / 10
                for _ in 0..<rootDigits {
                    best = nodes[node].best(after: best)
                    node = nodes[node].child(key / divisor % 10)
                    divisor /= 10
                }
                rootTable.append(RootSlot(node: Int32(node), best: best))
            }
            return PrefixTrie(nodes: nodes, rootTable: rootTable, rootDigits: rootDigits, maxDepth: maxDepth)
        }
    }

    private init(nodes: [Node], rootTable: [RootSlot], rootDigits: Int, maxDepth: Int) {
        self.nodes = nodes
        self.rootTable = rootTable
        self.rootDigits = rootDigits
        self.maxDepth = maxDepth
    }
}
