/// Why a call could not be rated. `description` is the one line the CLI and logs print.
public enum RatingError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidNumber(String)
    case noRate(String)
    case negativeDuration(Int64)
    case negativeBudget
    case instantOutOfRange
    case overflow

    public var description: String {
        switch self {
        case .invalidNumber(let text): "'\(text)' is not a dialled number (1-\(DialledNumber.maxDigits) digits, optional leading +)"
        case .noRate(let number): "no rate for \(number)"
        case .negativeDuration(let seconds): "duration \(seconds) is negative"
        case .negativeBudget: "budget is negative"
        case .instantOutOfRange: "call time is outside the years \(ZoneOffsets.coveredYears.lowerBound)-\(ZoneOffsets.coveredYears.upperBound - 1)"
        case .overflow: "cost out of range"
        }
    }
}
