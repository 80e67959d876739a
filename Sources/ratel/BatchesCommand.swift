import ArgumentParser
import Foundation
import Ledger
import RatingEngine

struct BatchesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batches",
        abstract: "List, export and switch whole batches of PINs or vouchers.",
        subcommands: [List.self, Show.self, Export.self, Enable.self, Disable.self, Drop.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List batches: id, kind, count, value, currency, plan, status, created, by.")
        @OptionGroup var ledger: LedgerOptions
        func run() async throws {
            for batch in try await ledger.withStore({ try await $0.batches() }) {
                print([String(batch.id), batch.vouchers ? "vouchers" : "accounts", String(batch.count), batch.faceValue.formatted(decimals: 2),
                       batch.faceValue.currency.code, batch.plan, batch.status.rawValue, Timestamp.text(batch.createdAt),
                       batch.createdBy].joined(separator: "\t"))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one batch as JSON.")
        @OptionGroup var ledger: LedgerOptions
        @Argument var id: Int64
        func run() async throws { try await ledger.withStore { try await $0.batch(id) }.json.print() }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Export a batch again as printable CSV (pin,password,value,currency,expiry).")
        @OptionGroup var ledger: LedgerOptions
        @Argument var id: Int64
        @Option(help: "Write here instead of standard output.") var out: String?

        func run() async throws {
            let cards = try await ledger.withStore { try await $0.export(batch: id) }
            if let out {
                try PrintableCSV.write(cards, to: out)
            } else {
                FileHandle.standardOutput.write(Data(PrintableExport.csv(cards).utf8))
            }
        }
    }

    struct Enable: BatchStatusChange {
        static let configuration = CommandConfiguration(abstract: "Enable every card of a batch; prints how many changed.")
        static let status = BatchStatus.enabled
        @OptionGroup var ledger: LedgerOptions
        @Argument var id: Int64
    }

    struct Disable: BatchStatusChange {
        static let configuration = CommandConfiguration(abstract: "Disable every card of a batch; prints how many changed.")
        static let status = BatchStatus.disabled
        @OptionGroup var ledger: LedgerOptions
        @Argument var id: Int64
    }

    struct Drop: BatchStatusChange {
        static let configuration = CommandConfiguration(abstract: "Drop every card of a batch for good; prints how many changed.")
        static let status = BatchStatus.dropped
        @OptionGroup var ledger: LedgerOptions
        @Argument var id: Int64
    }
}

/// `batches enable|disable|drop ID`: prints how many cards changed.
protocol BatchStatusChange: AsyncParsableCommand {
    static var status: BatchStatus { get }
    var ledger: LedgerOptions { get }
    var id: Int64 { get }
}

extension BatchStatusChange {
    func run() async throws {
        print(try await ledger.withStore { try await $0.setStatus(batch: id, Self.status, context: ledger.context()) })
    }
}

struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Ledger maintenance.",
        subcommands: [Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify every ledger invariant (balance = sum of movements, one debit per commit, held amounts) and print a summary.")
        @OptionGroup var ledger: LedgerOptions

        func run() async throws {
            let report = try await ledger.withStore { try await $0.check() }
            JSON.object([
                ("accounts", .int(Int64(report.accounts))),
                ("by_status", .object(AccountStatus.allCases.map { ($0.rawValue, .int(Int64(report.byStatus[$0] ?? 0))) })),
                ("movements", .int(Int64(report.movements))),
                ("open_reservations", .int(Int64(report.openReservations))),
                ("held", .string(Money.format(micros: report.heldMicros, minimumDecimals: 2))),
                ("overruns", .int(Int64(report.overruns))),
                ("balances", .object(report.totalBalance.sorted { $0.key < $1.key }.map { ($0.key, .string(Money.format(micros: $0.value, minimumDecimals: 2))) })),
                ("problems", .array(report.problems.map { .string($0) })),
            ]).print()
            guard report.problems.isEmpty else { throw CommandFailure("ledger check found \(report.problems.count) problem(s)") }
        }
    }
}
