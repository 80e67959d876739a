import ArgumentParser
import Foundation
import Ledger
import RatingEngine

struct PinsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pins",
        abstract: "Generate and manage PINs (prepaid accounts) and top-up vouchers.",
        subcommands: [Generate.self, List.self, Show.self, Activate.self, Enable.self, Disable.self, Drop.self,
                      Recharge.self, Redeem.self, SetPassword.self]
    )

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Generate a batch of PINs; prints the batch id.")
        @OptionGroup var ledger: LedgerOptions
        @Option(help: "How many PINs.") var count: Int
        @Option(help: "Face value of each PIN, e.g. 5.00.") var value: String
        @Option(help: "ISO 4217 currency code.") var currency = "EUR"
        @Option(help: "Tariff plan name.") var plan = "default"
        @Option(help: "first-use, manual or immediate.") var activation = "first-use"
        @Option(help: "Days of validity after activation.") var validityDays = Validity.defaultDays
        @Option(help: "Fixed expiry date (YYYY-MM-DD, UTC) instead of --validity-days.") var validUntil: String?
        @Option(help: "Digits in a PIN, series included.") var pinLength = 12
        @Option(help: "Digits every PIN of the batch starts with.") var series = ""
        @Option(help: "Digits in a password.") var passwordLength = 8
        @Option(help: "Simultaneous calls allowed per PIN.") var maxCalls = 1
        @Flag(help: "Generate single-use top-up vouchers instead of accounts.") var vouchers = false
        @Option(help: "Write the printable CSV (pin,password,value,currency,expiry) here.") var out: String?

        func run() async throws {
            let currency = try Currency(currency)
            let face = try Money(parsing: value, currency: currency)
            guard let mode = ActivationMode(rawValue: activation) else {
                throw CommandFailure("--activation must be first-use, manual or immediate, got \(activation)")
            }
            let validity = try validUntil.map { Validity.until(try Dates.parseDay($0, option: "--valid-until")) } ?? .days(validityDays)
            let spec = BatchSpec(count: count, faceValue: face, plan: plan, activation: mode, validity: validity,
                                 pinLength: pinLength, series: series, passwordLength: passwordLength, vouchers: vouchers,
                                 maxCalls: maxCalls)
            // Refused before generating, not after a million PINs were issued.
            if let out, FileManager.default.fileExists(atPath: out) {
                throw CommandFailure("\(out) already exists; not overwriting a printable export")
            }
            let progress = Progress(total: count)
            let (batch, cards) = try await ledger.withStore { store in
                try await store.generate(spec, context: ledger.context()) { progress.show($0) }
            }
            progress.finish()
            if let out { try PrintableCSV.write(cards, to: out) }
            print(batch.id)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts: pin, status, balance, currency, plan, batch.")
        @OptionGroup var ledger: LedgerOptions
        @Option(help: "Only this batch.") var batch: Int64?
        @Option(help: "At most this many.") var limit = 100
        @Option(help: "Skip this many first.") var offset = 0

        func run() async throws {
            let accounts = try await ledger.withStore { try await $0.accounts(batch: batch, limit: limit, offset: offset) }
            for account in accounts {
                print([account.pin, account.status.rawValue, Money.format(micros: account.balance, minimumDecimals: 2),
                       account.currency.code, account.plan, account.batchID.map(String.init) ?? ""].joined(separator: "\t"))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one account and its movements as JSON.")
        @OptionGroup var ledger: LedgerOptions
        @Argument var pin: String

        func run() async throws {
            let (account, movements) = try await ledger.withStore { store in
                (try await store.account(pin: pin), try await store.movements(pin: pin))
            }
            guard case .object(var members) = account.json else { return }
            members.append(("movements", .array(movements.map(\.json))))
            JSON.object(members).print()
        }
    }

    struct Activate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Activate a manual (or unused first-use) PIN.")
        @OptionGroup var ledger: LedgerOptions
        @Argument var pin: String
        func run() async throws {
            try await ledger.withStore { try await $0.activate(pin: pin, context: ledger.context()) }.json.print()
        }
    }

    struct Enable: StatusChange {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled PIN.")
        static let status = AccountStatus.active
        @OptionGroup var ledger: LedgerOptions
        @Argument var pin: String
    }

    struct Disable: StatusChange {
        static let configuration = CommandConfiguration(abstract: "Disable a PIN; it is refused until enabled.")
        static let status = AccountStatus.disabled
        @OptionGroup var ledger: LedgerOptions
        @Argument var pin: String
    }

    struct Drop: StatusChange {
        static let configuration = CommandConfiguration(abstract: "Drop a PIN for good; it is kept for history and never reused.")
        static let status = AccountStatus.dropped
        @OptionGroup var ledger: LedgerOptions
        @Argument var pin: String
    }

    struct Recharge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add money to a PIN with a payment record.")
        @OptionGroup var ledger: LedgerOptions
        @Argument var pin: String
        @Option(help: "Amount in the account's currency.") var amount: String
        @Option(help: "cash, card, bank or voucher.") var method = "cash"
        @Option(help: "Payment reference (receipt, transaction id).") var reference = ""

        func run() async throws {
            guard let method = PaymentMethod(rawValue: method) else {
                throw CommandFailure("--method must be cash, card, bank or voucher, got \(method)")
            }
            let movement = try await ledger.withStore { store in
                let account = try await store.account(pin: pin)
                let money = try Money(parsing: amount, currency: account.currency)
                return try await store.recharge(pin: pin, amount: money, method: method, reference: reference, context: ledger.context())
            }
            movement.json.print()
        }
    }

    struct Redeem: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Redeem a top-up voucher into a PIN.")
        @OptionGroup var ledger: LedgerOptions
        @Argument var pin: String
        @Option(help: "The voucher code.") var voucher: String

        func run() async throws {
            try await ledger.withStore { try await $0.redeem(voucher: voucher, pin: pin, context: ledger.context()) }.json.print()
        }
    }

    struct SetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-password", abstract: "Set a PIN's password.")
        @OptionGroup var ledger: LedgerOptions
        @Argument var pin: String
        @Option(help: "The new password.") var password: String

        func run() async throws {
            try await ledger.withStore { try await $0.setPassword(pin: pin, password, context: ledger.context()) }
        }
    }
}

/// `pins enable|disable|drop PIN`: one status change, printed as the account after it.
protocol StatusChange: AsyncParsableCommand {
    static var status: AccountStatus { get }
    var ledger: LedgerOptions { get }
    var pin: String { get }
}

extension StatusChange {
    func run() async throws {
        try await ledger.withStore { try await $0.setStatus(pin: pin, Self.status, context: ledger.context()) }.json.print()
    }
}

/// A progress bar on stderr, drawn only for a terminal.
final class Progress: Sendable {
    let total: Int
    let visible = isatty(STDERR_FILENO) != 0

    init(total: Int) { self.total = total }

    func show(_ done: Int) {
        guard visible, total > 0 else { return }
        let width = 40
        let filled = min(width, done * width / total)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total)".utf8))
    }

    func finish() {
        if visible { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

enum PrintableCSV {
    /// Writes a new file readable by its owner only: it holds the passwords in clear.
    static func write(_ cards: [PrintableCard], to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw CommandFailure("\(path) already exists; not overwriting a printable export")
        }
        let data = Data(PrintableExport.csv(cards).utf8)
        guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw CommandFailure("cannot write \(path)")
        }
    }
}

enum Dates {
    static func parseDay(_ text: String, option: String) throws -> Int64 {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1970...9999).contains(year), (1...12).contains(month), (1...31).contains(day)
        else { throw CommandFailure("\(option) must be a date YYYY-MM-DD, got \(text)") }
        var components = DateComponents()
        (components.year, components.month, components.day) = (year, month, day)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        guard let date = calendar.date(from: components), calendar.component(.day, from: date) == day else {
            throw CommandFailure("\(option): no such date \(text)")
        }
        return Int64(date.timeIntervalSince1970)
    }
}
