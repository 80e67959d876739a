/// A validated dialled number: 1 to 32 decimal digits, held inline (BCD in two words) so that
/// passing it through the rating hot path never allocates.
public struct DialledNumber: Hashable, Sendable, CustomStringConvertible {
    public static let maxDigits = 32

    private var low: UInt64 = 0
    private var high: UInt64 = 0
    public private(set) var count: Int = 0

    /// Reads digits, dropping one leading `+`. Anything else than digits is an error.
    public init(_ text: some StringProtocol) throws(RatingError) {
        var bytes = Substring(text).utf8[...]
        if bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        guard !bytes.isEmpty else { throw .invalidNumber(String(text)) }
        guard bytes.count <= DialledNumber.maxDigits else { throw .invalidNumber(String(text)) }
        for byte in bytes {
            guard byte >= 48, byte <= 57 else { throw .invalidNumber(String(text)) }
            append(byte - 48)
        }
    }

    private mutating func append(_ digit: UInt8) {
        let shift = UInt64((count % 16) * 4)
        if count < 16 { low |= UInt64(digit) << shift } else { high |= UInt64(digit) << shift }
        count += 1
    }

    /// The digit at `position` (0 is the first dialled digit); `position` must be below `count`.
    @inline(__always)
    public func digit(at position: Int) -> Int {
        let word = position < 16 ? low : high
        return Int(truncatingIfNeeded: (word >> UInt64((position & 15) * 4)) & 0xF)
    }

    public var description: String {
        String(decoding: (0..<count).map { UInt8(48 + digit(at: $0)) }, as: UTF8.self)
    }
}
