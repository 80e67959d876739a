internal import GRDB
import Foundation
import Synchronization

extension SQLiteLedgerStore {
    /// Each account's secret, opened when the store opens; one stored later stays sealed until it
    /// is first asked for. AES-GCM on every Access-Request (a key schedule and a few allocations
    /// each time) was 6-7% of an event loop's PAP time under `perf`, and opening on first use
    /// still cost that on every request of a server just started. An opened secret is no weaker
    /// here than the key file beside it, which this process already holds.
    ///
    /// Filed by account number in plain arrays (numbers are dealt out in order from 1), sixteen
    /// stripes with a lock each: a dictionary of a million secrets cost a PAP request a hash and
    /// two or three cache misses, about 4% of the event loop's samples at the peak.
    final class Passwords: Sendable {
        private enum Secret {
            case sealed(Data)
            case opened(String)
        }

        private final class Stripe: Sendable {
            let slots = Mutex<[Secret?]>([])
        }

        private static let stripeCount: Int64 = 16
        private let stripes = (0..<Passwords.stripeCount).map { _ in Stripe() }
        private let box: SecretBox

        init(box: SecretBox) { self.box = box }

        private static func place(_ id: Int64) -> (stripe: Int, slot: Int)? {
            id >= 0 ? (Int(id % stripeCount), Int(id / stripeCount)) : nil
        }

        private static func put(_ secret: Secret, at slot: Int, in slots: inout [Secret?]) {
            if slot >= slots.count { slots.append(contentsOf: repeatElement(nil, count: slot - slots.count + 1)) }
            slots[slot] = secret
        }

        /// Records sealed secrets as stored: `body` gets a function to call per row.
        func store(_ body: ((Int64, Data) -> Void) -> Void) {
            body { id, sealed in
                guard let (stripe, slot) = Self.place(id) else { return }
                stripes[stripe].slots.withLock { Self.put(.sealed(sealed), at: slot, in: &$0) }
            }
        }

        /// Opens every stored secret. One that does not open (another key file) stays sealed, and
        /// fails when it is asked for, as it did before.
        func load(from pool: DatabasePool) throws {
            let loaded = try pool.read { db in
                var loaded = [[Secret?]](repeating: [], count: Int(Self.stripeCount))
                let highest = try Int64.fetchOne(db, sql: "SELECT max(account_id) FROM secrets") ?? 0
                for index in loaded.indices { loaded[index].reserveCapacity(Int(highest / Self.stripeCount) + 1) }
                let rows = try Row.fetchCursor(db, sql: "SELECT account_id, sealed FROM secrets")
                while let row = try rows.next() {
                    let sealed: Data = row[1]
                    guard let (stripe, slot) = Self.place(row[0]) else { continue }
                    Self.put((try? box.open(sealed)).map(Secret.opened) ?? .sealed(sealed), at: slot, in: &loaded[stripe])
                }
                return loaded
            }
            for (stripe, slots) in zip(stripes, loaded) { stripe.slots.withLock { $0 = slots } }
        }

        func secret(of account: Int64) throws(LedgerError) -> String? {
            guard let (index, slot) = Self.place(account) else { return nil }
            let stripe = stripes[index]
            switch stripe.slots.withLock({ slot < $0.count ? $0[slot] : nil }) {
            case nil: return nil
            case .opened(let secret)?: return secret
            case .sealed(let sealed)?:
                let secret = try box.open(sealed)
                stripe.slots.withLock { slots in
                    // Unless a new secret was stored meanwhile.
                    if case .sealed(let current)? = slots[slot], current == sealed { slots[slot] = .opened(secret) }
                }
                return secret
            }
        }
    }
}
