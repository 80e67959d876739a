import Foundation
import Ledger
import RatingEngine
import Synchronization

/// Calls in flight at once: a softswitch carries hundreds of calls, each a reserve then a commit.
let callsInFlight = 256
/// Accounts the calls spread over, so that calls rarely meet on one account.
let accountCount = 20_000
let benchmarkNow: Int64 = 1_795_262_400

/// Runs `pairs` reserve+commit pairs with `callsInFlight` of them in flight at any moment.
func drive(pairs: Int, _ pair: @escaping @Sendable (Int) async throws -> Void) async throws {
    let next = Counter()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<min(callsInFlight, pairs) {
            group.addTask {
                while let index = next.take(below: pairs) { try await pair(index) }
            }
        }
        try await group.waitForAll()
    }
}

final class Counter: Sendable {
    private let value = Mutex(0)

    func take(below limit: Int) -> Int? {
        value.withLock { value in
            guard value < limit else { return nil }
            value += 1
            return value - 1
        }
    }
}

/// A unique reservation key per pair across every iteration of a run.
final class KeySource: Sendable {
    private let base = Mutex(0)

    func claim(_ count: Int) -> Int {
        base.withLock { base in
            defer { base += count }
            return base
        }
    }
}

let eur = try! Currency("EUR")  // a literal, not input

/// A fresh ledger holding `accountCount` active accounts of 1,000 EUR each.
func seed(_ store: any LedgerStore) async throws -> [String] {
    let spec = BatchSpec(count: accountCount, faceValue: Money(micros: 1_000_000_000, currency: eur),
                         activation: .immediate, maxCalls: 64)
    let (_, cards) = try await store.generate(spec, context: ChangeContext(actor: "bench", at: benchmarkNow), progress: nil)
    return cards.map(\.pin)
}

/// One call: hold 1.00, then debit 0.42.
@Sendable func storePair(_ store: any LedgerStore, pin: String, key: Int) async throws {
    let request = ReservationRequest(key: "call-\(key)", pin: pin, amount: 1_000_000,
                                     expiresAt: benchmarkNow + 3_600, nas: "bench", at: benchmarkNow)
    guard case .reserved = try await store.reserve(request) else { fatalError("the seeded accounts can afford every call") }
    _ = try await store.commit(key: request.key, cost: 420_000, details: "", at: benchmarkNow + 60)
}
