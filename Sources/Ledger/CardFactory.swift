import Foundation
import Synchronization

/// Draws a batch's PINs and passwords outside any lock, and starts sealing the passwords.
package struct CardFactory: Sendable {
    let spec: BatchSpec
    let secrets: SecretBox
    private var generator = CodeGenerator()

    package init(spec: BatchSpec, secrets: SecretBox) {
        self.spec = spec
        self.secrets = secrets
    }

    mutating func card() -> IssuedCard {
        let pin = freshPIN()
        return IssuedCard(pin: pin, password: spec.vouchers ? "" : generator.digits(spec.passwordLength))
    }

    mutating func freshPIN() -> String {
        generator.digits(spec.pinLength - spec.series.utf8.count, after: spec.series)
    }

    /// Candidates for the whole batch, unique among themselves and in PIN order; `progress` hears
    /// the count made so far. The draws are shared out over the cores, each worker with a
    /// generator of its own, sorting its share; the merge drops the rare duplicate between
    /// workers. Issued in PIN order, a batch's rows go into the PIN index in key order too, which
    /// keeps a million inserts on neighbouring pages.
    package mutating func candidates(progress: (@Sendable (Int) -> Void)?) -> [IssuedCard] {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, spec.count / 20_000))
        let made = Atomic<Int>(0)
        let shares = Mutex<[[IssuedCard]]>(Array(repeating: [], count: workers))
        let template = self
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var factory = CardFactory(spec: template.spec, secrets: template.secrets)
            let count = template.spec.count / workers + (worker < template.spec.count % workers ? 1 : 0)
            var share: [IssuedCard] = []
            share.reserveCapacity(count)
            for _ in 0..<count {
                share.append(factory.card())
                let madeSoFar = made.add(1, ordering: .relaxed).newValue
                if madeSoFar % 50_000 == 0 { progress?(madeSoFar) }
            }
            share.sort { $0.pin < $1.pin }
            shares.withLock { $0[worker] = share }
        }
        var cards = shares.withLock { $0 }.reduce(into: []) { merged, share in merged = Self.mergedUnique(merged, share) }
        if cards.count < spec.count {
            var seen = Set(cards.map(\.pin))
            while cards.count < spec.count {
                let card = card()
                if seen.insert(card.pin).inserted { cards.append(card) }
            }
            cards.sort { $0.pin < $1.pin }
        }
        return cards
    }

    /// Two PIN-sorted runs of cards merged into one, each PIN once.
    private static func mergedUnique(_ first: [IssuedCard], _ second: [IssuedCard]) -> [IssuedCard] {
        var merged: [IssuedCard] = []
        merged.reserveCapacity(first.count + second.count)
        var (i, j) = (0, 0)
        while i < first.count || j < second.count {
            let takeFirst = j == second.count || (i < first.count && first[i].pin <= second[j].pin)
            let card = takeFirst ? first[i] : second[j]
            if takeFirst { i += 1 } else { j += 1 }
            if merged.last?.pin != card.pin { merged.append(card) }
        }
        return merged
    }

    /// Starts sealing the cards' passwords (none for vouchers), in the cards' order.
    package func sealing(_ cards: [IssuedCard]) -> SealingJob {
        SealingJob.start(spec.vouchers ? [] : cards.map(\.password), box: secrets)
    }

    /// The batch's printable export, as `generate` returns it: clear passwords, value and expiry.
    package func printable(_ cards: [IssuedCard], issuedAt at: Int64) -> [PrintableCard] {
        let expiry = spec.expiryAtIssue(at)
        return cards.map { PrintableCard(pin: $0.pin, password: $0.password, value: spec.faceValue, expiresAt: expiry) }
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
