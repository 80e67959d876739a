/// The price of calls to one prefix, as one deck row states it. All amounts are micros.
public struct PrefixRate: Sendable, Equatable {
    public var ratePerMinuteMicros: Int64
    public var connectFeeMicros: Int64
    /// What the terminating carrier charges per minute, for profit reports; nil when the deck has none.
    public var buyRatePerMinuteMicros: Int64?
    public var initialIncrementSeconds: Int32
    public var incrementSeconds: Int32
    public var minDurationSeconds: Int32

    public init(ratePerMinuteMicros: Int64, connectFeeMicros: Int64 = 0, buyRatePerMinuteMicros: Int64? = nil,
                initialIncrementSeconds: Int32 = 60, incrementSeconds: Int32 = 60, minDurationSeconds: Int32 = 0) {
        precondition(incrementSeconds >= 1 && initialIncrementSeconds >= 0 && minDurationSeconds >= 0)
        self.ratePerMinuteMicros = ratePerMinuteMicros
        self.connectFeeMicros = connectFeeMicros
        self.buyRatePerMinuteMicros = buyRatePerMinuteMicros
        self.initialIncrementSeconds = initialIncrementSeconds
        self.incrementSeconds = incrementSeconds
        self.minDurationSeconds = minDurationSeconds
    }

    /// Seconds billed for `durationSeconds` answered seconds (step 3 of the rating contract).
    public func billedSeconds(forDuration durationSeconds: Int64) -> Int64 {
        guard durationSeconds > 0 else { return 0 }
        let initial = Int64(initialIncrementSeconds)
        let increment = Int64(incrementSeconds)
        var billed = initial
        if durationSeconds > initial {
            let steps = (durationSeconds - initial + increment - 1) / increment
            billed = initial + steps * increment
        }
        return max(billed, Int64(minDurationSeconds))
    }
}

/// One rate deck, immutable once built: its rows plus a `PrefixTrie` over their prefixes.
/// Destination names are interned, since a 317k-row deck repeats a few thousand of them.
public struct RateDeck: Sendable {
    /// Where the deck came from (its path as the plan names it), for messages.
    public let source: String
    let trie: PrefixTrie
    let rates: [PrefixRate]
    let prefixes: [String]
    let destinationIndexes: [Int32]
    let destinations: [String]

    init(source: String, trie: PrefixTrie, rates: [PrefixRate], prefixes: [String],
         destinationIndexes: [Int32], destinations: [String]) {
        precondition(rates.count == prefixes.count && rates.count == destinationIndexes.count)
        self.source = source
        self.trie = trie
        self.rates = rates
        self.prefixes = prefixes
        self.destinationIndexes = destinationIndexes
        self.destinations = destinations
    }

    public var count: Int { rates.count }
    public var distinctDestinations: Int { destinations.count }
    public var trieNodeCount: Int { trie.nodeCount }

    /// The row of the longest prefix of `number`, or nil when no prefix matches.
    @inline(__always)
    public func longestMatch(_ number: DialledNumber) -> Int? {
        let entry = trie.longestMatch(number)
        return entry >= 0 ? Int(entry) : nil
    }

    public func rate(at row: Int) -> PrefixRate { rates[row] }
    public func prefix(at row: Int) -> String { prefixes[row] }
    public func destination(at row: Int) -> String { destinations[Int(destinationIndexes[row])] }
}

/// A rate deck that could not be loaded; names the file, line and column. Nothing is half-loaded.
public struct DeckError: Error, Equatable, Sendable, CustomStringConvertible {
    public let source: String
    public let line: Int?
    public let column: String?
    public let reason: Reason

    public init(source: String, line: Int?, column: String?, reason: Reason) {
        self.source = source
        self.line = line
        self.column = column
        self.reason = reason
    }

    public enum Reason: Error, Equatable, Sendable, CustomStringConvertible {
        case unreadable(String)
        case empty
        case unterminatedQuote
        case textAfterQuote
        case quoteInsideField
        case recordTooLong(Int)
        case tooManyFields(Int)
        case tooManyRows(Int)
        case invalidUTF8
        case unknownColumn(String)
        case duplicateColumn(String)
        case missingColumn(String)
        case fieldCount(expected: Int, found: Int)
        case emptyValue
        case invalidPrefix(String)
        case duplicatePrefix(String, firstLine: Int)
        case invalidAmount(MoneyError)
        case negativeAmount(String)
        case invalidInteger(String, ClosedRange<Int>)

        public var description: String {
            switch self {
            case .unreadable(let why): "cannot read: \(why)"
            case .empty: "no header row"
            case .unterminatedQuote: "quoted field is never closed"
            case .textAfterQuote: "text after a closing quote"
            case .quoteInsideField: "quote inside an unquoted field"
            case .recordTooLong(let limit): "record longer than \(limit) bytes"
            case .tooManyFields(let limit): "more than \(limit) fields"
            case .tooManyRows(let limit): "more than \(limit) rows"
            case .invalidUTF8: "not valid UTF-8"
            case .unknownColumn(let name): "unknown column '\(name)'"
            case .duplicateColumn(let name): "column '\(name)' appears twice"
            case .missingColumn(let name): "required column '\(name)' is missing"
            case .fieldCount(let expected, let found): "\(found) fields where the header has \(expected)"
            case .emptyValue: "value is required"
            case .invalidPrefix(let text): "prefix '\(text)' must be 1-\(DeckParser.maxPrefixDigits) digits"
            case .duplicatePrefix(let prefix, let firstLine): "prefix \(prefix) already defined on line \(firstLine)"
            case .invalidAmount(let error): error.description
            case .negativeAmount(let text): "amount '\(text)' is negative"
            case .invalidInteger(let text, let range): "'\(text)' is not a whole number in \(range.lowerBound)...\(range.upperBound)"
            }
        }
    }

    public var description: String {
        var text = source
        if let line { text += ":\(line)" }
        text += ": "
        if let column { text += "column '\(column)': " }
        return text + reason.description
    }
}
