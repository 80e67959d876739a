import Foundation
import Ledger
import LedgerPostgres
import RatingEngine
import Synchronization

// A child process for the crash and two-node tests: it opens the embedded ledger in the
// directory given as its argument (or, given a second argument, the PostgreSQL database at that
// URL with the directory's key file), runs the operations it reads on stdin (many in flight at once, so group commit
// batches them), and prints one line per operation only once the store acknowledged it.
// The test kills it with SIGKILL at random moments and checks what it acknowledged.
//
//   reserve KEY PIN MICROS    ->  ok reserve KEY granted|refused
//   commit KEY MICROS         ->  ok commit KEY
//   recharge PIN MICROS REF   ->  ok recharge REF

let output = Mutex(())

func say(_ line: String) {
    output.withLock { _ in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
}

let arguments = CommandLine.arguments
guard arguments.count == 2 || arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: LedgerCrashDriver DATA-DIRECTORY [POSTGRES-URL]\n".utf8))
    exit(2)
}
let store: any LedgerStore = arguments.count == 3
    ? try await PostgresLedgerStore.open(url: arguments[2], keyFile: arguments[1] + "/ratel.key")
    : try SQLiteLedgerStore.open(directory: arguments[1])
let eur = try Currency("EUR")
say("ready")

await withTaskGroup(of: Void.self) { group in
    while let line = readLine() {
        let words = line.split(separator: " ").map(String.init)
        group.addTask {
            let now = Int64(Date().timeIntervalSince1970)
            do {
                switch (words.first, words.count) {
                case ("reserve", 4):
                    let outcome = try await store.reserve(ReservationRequest(
                        key: words[1], pin: words[2], amount: Int64(words[3]) ?? 0, expiresAt: now + 3_600, nas: "crash", at: now))
                    if case .reserved = outcome { say("ok reserve \(words[1]) granted") } else { say("ok reserve \(words[1]) refused") }
                case ("commit", 3):
                    _ = try await store.commit(key: words[1], cost: Int64(words[2]) ?? 0, details: "", at: now)
                    say("ok commit \(words[1])")
                case ("recharge", 4):
                    _ = try await store.recharge(pin: words[1], amount: Money(micros: Int64(words[2]) ?? 0, currency: eur),
                                                 method: .cash, reference: words[3],
                                                 context: ChangeContext(actor: "crash", at: now))
                    say("ok recharge \(words[3])")
                default:
                    say("error unknown command \(line)")
                }
            } catch {
                say("error \(error)")
            }
        }
    }
}
await store.close()
