import Ledger

/// NASes reuse session ids (a gateway's session counter starts again after a reboot), while the
/// ledger keeps a key for good and answers a reserve for a known key with that key's
/// reservation, as it must for a retried request. Granting a new call on a finished call's
/// reservation gave the call away: its Stop found the reservation already committed. So a new
/// call under a finished call's session id is filed under `key#<that call's number>`, which a
/// retry of the same request derives again; accounting that names only the session id follows
/// the same chain to the newest call, and the Class carries the exact key.
enum SessionKeyChain {
    /// How many reuses of one session id are followed; a NAS that wraps its counter that often
    /// within the ledger's memory is beyond this.
    static let longest = 16

    static func successor(of key: String, after finished: Reservation) -> String { "\(key)#\(finished.id)" }

    /// The newest reservation in `first`'s chain: the first one still open, or the last one.
    static func newest(from first: Reservation, key: String, in store: any LedgerStore) async throws(LedgerError) -> Reservation {
        var current = first
        for _ in 0..<longest where current.state != .open {
            do {
                current = try await store.reservation(key: successor(of: key, after: current))
            } catch .unknownReservation {
                break
            }
        }
        return current
    }
}
