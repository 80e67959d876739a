import Foundation
import Ledger
import RadiusProtocol
import RadiusServer
import RatingEngine

/// What `ratel serve --demo` adds so a new user can try the server with radclient at once.
enum DemoSetup {
    static let secret = "testing123"
    static let actor = "demo"

    static func client() throws -> NASClient {
        NASClient(name: "demo", networks: [try IPNetwork("127.0.0.1"), try IPNetwork("::1")], secret: Array(secret.utf8),
                  profile: .generic, requestPolicy: RequestPolicy(requireMessageAuthenticator: true, limitProxyState: false))
    }

    /// Issues three 10.00 cards on the `default` plan the first time, then prints them on every start.
    static func printCards(store: any LedgerStore, plans: PlanBook) async throws {
        guard let plan = plans.plan(named: "default") else { throw CommandFailure("--demo needs a plan named 'default' in [plans]") }
        let now = Int64(Date().timeIntervalSince1970)
        var batch = try await store.batches().first { $0.createdBy == actor }
        if batch == nil {
            let spec = BatchSpec(count: 3, faceValue: Money(micros: 10_000_000, currency: plan.currency), plan: "default",
                                 activation: .immediate, pinLength: 10, passwordLength: 6, maxCalls: 4)
            batch = try await store.generate(spec, context: ChangeContext(actor: actor, address: "cli", at: now), progress: nil).0
        }
        guard let batch else { return }
        var lines = ["ratel: demo client 127.0.0.1 and ::1, secret '\(secret)'; demo PINs (User-Name / User-Password):"]
        for card in try await store.export(batch: batch.id) {
            let balance = try await store.account(pin: card.pin).balanceMoney
            lines.append("  \(card.pin) / \(card.password)  balance \(balance.formatted(decimals: 2)) \(balance.currency.code)")
        }
        lines.append("""
            ratel: try  printf 'User-Name=%s\\nUser-Password=%s\\nCalled-Station-Id=359888123456\\nMessage-Authenticator=0x00\\n' \
            PIN PASSWORD | radclient -x 127.0.0.1:1812 auth \(secret)
            """)
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}

/// The live calls as `ratel calls` and the admin web show them: account, destination, answer
/// time, elapsed seconds and the running cost at the plan's rates.
struct LiveCallsReport: Sendable {
    let engine: RadiusEngine
    let store: any LedgerStore
    let plans: PlanBook

    func json() async -> String {
        let now = Int64(Date().timeIntervalSince1970)
        var rows: [JSON] = []
        for call in engine.liveCalls.snapshot {
            let reservation = call.reservation
            let account = try? await store.account(id: reservation.accountID)
            let started = call.answeredAt ?? reservation.openedAt
            let elapsed = call.answeredAt.map { max(0, now - $0) } ?? 0
            var cost: Int64 = 0
            if elapsed > 0, let account, let plan = plans.plan(named: account.plan), let number = try? DialledNumber(reservation.number),
               let charge = try? plan.charge(number, start: started, durationSeconds: elapsed) {
                cost = charge.chargedMicros
            }
            rows.append(.object([
                ("key", .string(reservation.key)), ("nas", .string(reservation.nas)),
                ("account", .string(RadiusEngine.masked(account?.pin))), ("number", .string(reservation.number)),
                ("destination", .string(reservation.destination)), ("state", .string(call.answeredAt == nil ? "ringing" : "answered")),
                ("authorised", .string(Timestamp.text(reservation.openedAt))), ("answered", .string(Timestamp.text(call.answeredAt))),
                ("elapsed", .int(elapsed)), ("running_cost", .string(Money.format(micros: cost, minimumDecimals: 2))),
                ("held", .string(Money.format(micros: reservation.amount, minimumDecimals: 2))),
                ("currency", .string(account?.currency.code ?? "")),
            ]))
        }
        return JSON.array(rows).rendered() + "\n"
    }
}
