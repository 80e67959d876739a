/// Reads RFC 4180 CSV from bytes, one record at a time, without copying fields.
///
/// Written here rather than taken from SwiftCSV or CSV.swift because rate decks need three things
/// those readers do not give together: the physical line where each record starts (for error
/// messages), hard limits on record length and field count (decks are untrusted input), and speed
/// on 317k-row decks. A UTF-8 byte order mark is skipped; CRLF and LF both end a record.
struct CSVReader {
    static let maxRecordBytes = 64 * 1024
    static let maxFields = 64

    /// One field of the current record: its bytes in the buffer, quotes excluded.
    struct Field {
        var start: Int
        var end: Int
        /// True when the field was quoted and contains doubled quotes to unescape.
        var hasEscapes: Bool
    }

    private let bytes: [UInt8]
    private var position: Int
    private var line = 1
    /// The line the current (or failed) record starts on, for error messages.
    private(set) var recordLine = 1

    init(bytes: [UInt8]) {
        self.bytes = bytes
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        position = bytes.starts(with: bom) ? 3 : 0
    }

    /// Fills `fields` with the next record and returns the line it starts on, or nil at the end.
    /// Blank lines are skipped.
    mutating func nextRecord(into fields: inout [Field]) throws(DeckError.Reason) -> Int? {
        fields.removeAll(keepingCapacity: true)
        while position < bytes.count, bytes[position] == 0x0A || bytes[position] == 0x0D {
            if bytes[position] == 0x0A { line += 1 }
            position += 1
        }
        guard position < bytes.count else { return nil }
        recordLine = line
        let recordStart = position
        while true {
            guard fields.count < CSVReader.maxFields else { throw .tooManyFields(CSVReader.maxFields) }
            var field = Field(start: position, end: position, hasEscapes: false)
            if position < bytes.count, bytes[position] == 0x22 {
                position += 1
                field.start = position
                var closed = false
                while position < bytes.count {
                    let byte = bytes[position]
                    if byte == 0x22 {
                        if position + 1 < bytes.count, bytes[position + 1] == 0x22 {
                            field.hasEscapes = true
                            position += 2
                            continue
                        }
                        closed = true
                        break
                    }
                    if byte == 0x0A { line += 1 }
                    position += 1
                }
                guard closed else { throw .unterminatedQuote }
                field.end = position
                position += 1
                guard position >= bytes.count || [0x2C, 0x0A, 0x0D].contains(bytes[position]) else {
                    throw .textAfterQuote
                }
            } else {
                while position < bytes.count {
                    let byte = bytes[position]
                    if byte == 0x2C || byte == 0x0A || byte == 0x0D { break }
                    if byte == 0x22 { throw .quoteInsideField }
                    position += 1
                }
                field.end = position
            }
            fields.append(field)
            guard position - recordStart <= CSVReader.maxRecordBytes else {
                throw .recordTooLong(CSVReader.maxRecordBytes)
            }
            if position < bytes.count, bytes[position] == 0x2C {
                position += 1
                continue
            }
            if position < bytes.count, bytes[position] == 0x0D { position += 1 }
            if position < bytes.count, bytes[position] == 0x0A {
                position += 1
                line += 1
            }
            return recordLine
        }
    }

    func bytes(of field: Field) -> ArraySlice<UInt8> {
        bytes[field.start..<field.end]
    }

    /// The field as text, unescaped and trimmed of surrounding spaces.
    func text(of field: Field) throws(DeckError.Reason) -> String {
        var slice = bytes[field.start..<field.end]
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        guard let text = String(validating: slice, as: UTF8.self) else { throw .invalidUTF8 }
        return field.hasEscapes ? text.replacingOccurrences("\"\"", with: "\"") : text
    }
}

extension String {
    /// Replaces every occurrence without Foundation, which RatingEngine keeps out of its parsers.
    func replacingOccurrences(_ target: String, with replacement: String) -> String {
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
