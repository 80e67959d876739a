/// Turns the bytes of a rate-deck CSV into a `RateDeck` (format: docs/rate-decks.md).
enum DeckParser {
    static let maxPrefixDigits = 20
    static let maxRows = 5_000_000
    static let maxIncrementSeconds = 86_400

    enum Column: String, CaseIterable {
        case prefix, destination, rate
        case connectFee = "connect_fee"
        case initialIncrement = "initial_increment"
        case increment
        case minDuration = "min_duration"
        case buyRate = "buy_rate"

        static let required: [Column] = [.prefix, .destination, .rate]
    }

    static func parse(bytes: [UInt8], source: String) throws(DeckError) -> RateDeck {
        var reader = CSVReader(bytes: bytes)
        var fields: [CSVReader.Field] = []
        func fail(_ line: Int?, _ column: Column?, _ reason: DeckError.Reason) -> DeckError {
            DeckError(source: source, line: line, column: column?.rawValue, reason: reason)
        }

        let headerRecord: Int?
        do { headerRecord = try reader.nextRecord(into: &fields) } catch { throw fail(reader.recordLine, nil, error) }
        guard let headerLine = headerRecord else { throw fail(nil, nil, .empty) }
        var columnAt: [Column] = []
        for field in fields {
            let name: String
            do { name = try reader.text(of: field).lowercased() } catch { throw fail(headerLine, nil, error) }
            guard let column = Column(rawValue: name) else { throw fail(headerLine, nil, .unknownColumn(name)) }
            guard !columnAt.contains(column) else { throw fail(headerLine, nil, .duplicateColumn(name)) }
            columnAt.append(column)
        }
        for column in Column.required where !columnAt.contains(column) {
            throw fail(headerLine, nil, .missingColumn(column.rawValue))
        }

        var builder = PrefixTrie.Builder()
        var rates: [PrefixRate] = []
        var prefixes: [String] = []
        var destinationIndexes: [Int32] = []
        var destinations: [String] = []
        var destinationIndex: [String: Int32] = [:]
        var lines: [Int32] = []
        var digits: [UInt8] = []

        while true {
            let line: Int
            do {
                guard let next = try reader.nextRecord(into: &fields) else { break }
                line = next
            } catch { throw fail(reader.recordLine, nil, error) }
            guard rates.count < maxRows else { throw fail(line, nil, .tooManyRows(maxRows)) }
            guard fields.count == columnAt.count else {
                throw fail(line, nil, .fieldCount(expected: columnAt.count, found: fields.count))
            }
            var rate = PrefixRate(ratePerMinuteMicros: 0)
            var prefix = ""
            var destination = ""
            for (index, column) in columnAt.enumerated() {
                let field = fields[index]
                do throws(DeckError.Reason) {
                    let text = try reader.text(of: field)
                    if text.isEmpty {
                        if Column.required.contains(column) { throw .emptyValue }
                        continue
                    }
                    switch column {
                    case .prefix:
                        try readPrefix(text, into: &digits)
                        prefix = text
                    case .destination: destination = text
                    case .rate: rate.ratePerMinuteMicros = try amount(text)
                    case .connectFee: rate.connectFeeMicros = try amount(text)
                    case .buyRate: rate.buyRatePerMinuteMicros = try amount(text)
                    case .initialIncrement: rate.initialIncrementSeconds = try seconds(text, 0...maxIncrementSeconds)
                    case .increment: rate.incrementSeconds = try seconds(text, 1...maxIncrementSeconds)
                    case .minDuration: rate.minDurationSeconds = try seconds(text, 0...maxIncrementSeconds)
                    }
                } catch {
                    throw fail(line, column, error)
                }
            }
            let row = Int32(rates.count)
            if let existing = builder.insert(digits, entry: row) {
                throw fail(line, .prefix, .duplicatePrefix(prefix, firstLine: Int(lines[Int(existing)])))
            }
            let interned: Int32
            if let known = destinationIndex[destination] {
                interned = known
            } else {
                interned = Int32(destinations.count)
                destinations.append(destination)
                destinationIndex[destination] = interned
            }
            rates.append(rate)
            prefixes.append(prefix)
            destinationIndexes.append(interned)
            lines.append(Int32(clamping: line))
        }
        return RateDeck(source: source, trie: builder.build(), rates: rates, prefixes: prefixes,
                        destinationIndexes: destinationIndexes, destinations: destinations)
    }

    private static func readPrefix(_ text: String, into digits: inout [UInt8]) throws(DeckError.Reason) {
        digits.removeAll(keepingCapacity: true)
        for byte in text.utf8 {
            guard byte >= 48, byte <= 57 else { throw .invalidPrefix(text) }
            digits.append(byte - 48)
        }
        guard (1...maxPrefixDigits).contains(digits.count) else { throw .invalidPrefix(text) }
    }

    private static func amount(_ text: String) throws(DeckError.Reason) -> Int64 {
        let micros: Int64
        do { micros = try Money.parseMicros(text) } catch { throw .invalidAmount(error) }
        guard micros >= 0 else { throw .negativeAmount(text) }
        return micros
    }

    private static func seconds(_ text: String, _ range: ClosedRange<Int>) throws(DeckError.Reason) -> Int32 {
        guard text.utf8.count <= 9, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let value = Int(text), range.contains(value) else {
            throw .invalidInteger(text, range)
        }
        return Int32(value)
    }
}
