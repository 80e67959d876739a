import RatingEngine

/// A batch's printable CSV, the one place passwords leave the ledger in clear.
public enum PrintableExport {
    public static let header = "pin,password,value,currency,expiry\n"

    public static func csv(_ cards: [PrintableCard]) -> String {
        var text = header
        text.reserveCapacity(cards.count * 48)
        for card in cards {
            text += card.pin
            text += ","
            text += card.password
            text += ","
            text += card.value.formatted(decimals: 2)
            text += ","
            text += card.value.currency.code
            text += ","
            if let expiresAt = card.expiresAt { text += day(expiresAt) }
            text += "\n"
        }
        return text
    }

    /// YYYY-MM-DD in UTC. Computed, not formatted by Foundation: a batch prints a million of them.
    static func day(_ seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let date = CivilDate(daysSinceEpoch: days)
        func padded(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return padded(date.year, 4) + "-" + padded(date.month, 2) + "-" + padded(date.day, 2)
    }
}
