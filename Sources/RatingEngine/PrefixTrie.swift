/// A longest-prefix-match index over decimal digit strings, frozen into one flat array.
///
/// Each node is `nodeStride` consecutive `Int32`s: the entry stored at that node (or -1), then
/// ten child offsets (0 when absent; the root is never a child). A lookup walks one cache line per
/// digit with no allocation and no pointer chasing between heap objects, the shape Hummingbird's
/// router trie uses, and the whole index is swapped as one value when a deck is reloaded.
public struct PrefixTrie: Sendable {
    static let nodeStride = 11

    private let nodes: [Int32]

    /// Number of nodes, for memory accounting.
    public var nodeCount: Int { nodes.count / PrefixTrie.nodeStride }

    fileprivate init(nodes: [Int32]) {
        self.nodes = nodes
    }

    /// The entry of the longest prefix of `number` in the trie, or -1.
    @inlinable @inline(__always)
    public func longestMatch(_ number: DialledNumber) -> Int32 {
        longestMatchImpl(number)
    }

    @usableFromInline
    func longestMatchImpl(_ number: DialledNumber) -> Int32 {
        nodes.withUnsafeBufferPointer { table in
            var node = 0
            var best: Int32 = -1
            for position in 0..<number.count {
                let child = Int(table[node + 1 + number.digit(at: position)])
                if child == 0 { break }
                node = child
                let entry = table[node]
                best = entry >= 0 ? entry : best
            }
            return best
        }
    }

    /// Builds the frozen trie; `Builder.insert` reports a prefix that is already present.
    public struct Builder {
        private var nodes: [Int32] = Array(repeating: 0, count: PrefixTrie.nodeStride)

        public init() {
            nodes[0] = -1
        }

        /// Adds `digits` (values 0-9) for `entry`. Returns the entry already stored there, if any.
        public mutating func insert(_ digits: some Sequence<UInt8>, entry: Int32) -> Int32? {
            var node = 0
            for digit in digits {
                precondition(digit < 10, "prefix digits are validated before insertion")
                let slot = node + 1 + Int(digit)
                if nodes[slot] == 0 {
                    let child = nodes.count
                    precondition(child < Int(Int32.max) - PrefixTrie.nodeStride, "trie too large")
                    nodes.append(-1)
                    nodes.append(contentsOf: repeatElement(0, count: 10))
                    nodes[slot] = Int32(child)
                }
                node = Int(nodes[slot])
            }
            if nodes[node] >= 0 { return nodes[node] }
            nodes[node] = entry
            return nil
        }

        public func build() -> PrefixTrie {
            PrefixTrie(nodes: nodes)
        }
    }
}
