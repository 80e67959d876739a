import Foundation

/// Draws a batch's PINs and passwords and seals the passwords, outside any lock: for a million
/// cards that is most of the work of `pins generate`.
package struct CardFactory: Sendable {
    let spec: BatchSpec
    let secrets: SecretBox
    private var generator = CodeGenerator()

    package init(spec: BatchSpec, secrets: SecretBox) {
        self.spec = spec
        self.secrets = secrets
    }

    mutating func card() throws(LedgerError) -> IssuedCard {
        let pin = freshPIN()
        guard !spec.vouchers else { return IssuedCard(pin: pin, password: "", sealed: Data()) }
        let password = generator.digits(spec.passwordLength)
        return IssuedCard(pin: pin, password: password, sealed: try secrets.seal(password))
    }

    mutating func freshPIN() -> String {
        generator.digits(spec.pinLength - spec.series.utf8.count, after: spec.series)
    }

    /// Candidates for the whole batch, unique among themselves; `progress` hears the count made so far.
    package mutating func candidates(progress: (@Sendable (Int) -> Void)?) throws(LedgerError) -> [IssuedCard] {
        var cards: [IssuedCard] = []
        cards.reserveCapacity(spec.count)
        var seen = Set<String>(minimumCapacity: spec.count)
        while cards.count < spec.count {
            let card = try card()
            guard seen.insert(card.pin).inserted else { continue }
            cards.append(card)
            if cards.count % 50_000 == 0 { progress?(cards.count) }
        }
        return cards
    }

    /// Replaces every candidate whose PIN was issued before (checked under the store's lock).
    package mutating func replaceIssued(_ cards: inout [IssuedCard], isIssued: (String) -> Bool) {
        var batchPins: Set<String>?
        for index in cards.indices where isIssued(cards[index].pin) {
            if batchPins == nil { batchPins = Set(cards.map(\.pin)) }
            var pin = freshPIN()
            while isIssued(pin) || batchPins?.contains(pin) == true { pin = freshPIN() }
            batchPins?.insert(pin)
            cards[index].pin = pin
        }
    }
}
