import PropertyBased
import RatingEngine
import Testing

@Suite struct MoneyTests {
    @Test(arguments: [
        ("0.0125", 12_500), ("12", 12_000_000), ("-0.5", -500_000), ("+3.000001", 3_000_001),
        ("0", 0), ("9223372036854.775807", Int64.max), ("007.10", 7_100_000),
    ] as [(String, Int64)])
    func parsesDecimalsExactly(text: String, micros: Int64) throws {
        #expect(try Money.parseMicros(text) == micros)
    }

    @Test(arguments: ["", "-", ".5", "5.", "1.2.3", "1e3", "0x10", " 1", "1,5", "NaN", "--1", "1.-2"])
    func refusesWhatIsNotADecimal(text: String) {
        #expect(throws: MoneyError.invalidAmount(text)) { try Money.parseMicros(text) }
    }

    @Test func refusesMoreThanSixDecimals() {
        #expect(throws: MoneyError.tooManyDecimals("0.0000001")) { try Money.parseMicros("0.0000001") }
    }

    @Test func overflowIsAnErrorNotATrap() throws {
        #expect(throws: MoneyError.overflow) { try Money.parseMicros("9223372036854.775808") }
        #expect(throws: MoneyError.overflow) { try Money.parseMicros("99999999999999999999999") }
        let eur = try Currency("EUR")
        let big = Money(micros: .max, currency: eur)
        #expect(throws: MoneyError.overflow) { try big.adding(Money(micros: 1, currency: eur)) }
        #expect(throws: MoneyError.overflow) { try big.multiplied(by: 2) }
        #expect(throws: MoneyError.overflow) { try Money(micros: .min, currency: eur).negated() }
        #expect(throws: MoneyError.overflow) { try big.rounded(decimals: 0, mode: .up) }
    }

    @Test func arithmeticKeepsCurrencies() throws {
        let eur = try Currency("EUR"), usd = try Currency("USD")
        let sum = try Money(parsing: "0.10", currency: eur).adding(Money(parsing: "0.20", currency: eur))
        #expect(sum == Money(micros: 300_000, currency: eur))
        #expect(throws: MoneyError.currencyMismatch(eur, usd)) {
            try Money.zero(eur).adding(Money.zero(usd))
        }
        #expect(throws: MoneyError.invalidCurrency("eur")) { try Currency("eur") }
        #expect(sum.description == "0.30 EUR")
    }

    /// value, decimals, then the expected result for up, half-up, down, half-even.
    @Test(arguments: [
        ("1.234500", 2, "1.24", "1.23", "1.23", "1.23"),
        ("1.235000", 2, "1.24", "1.24", "1.23", "1.24"),
        ("1.245000", 2, "1.25", "1.25", "1.24", "1.24"),
        ("1.245001", 2, "1.25", "1.25", "1.24", "1.25"),
        ("-1.235000", 2, "-1.24", "-1.24", "-1.23", "-1.24"),
        ("-1.245000", 2, "-1.25", "-1.25", "-1.24", "-1.24"),
        ("2.500000", 0, "3", "3", "2", "2"),
        ("3.500000", 0, "4", "4", "3", "4"),
        ("0.000001", 4, "0.0001", "0.0000", "0.0000", "0.0000"),
        ("7.000000", 3, "7.000", "7.000", "7.000", "7.000"),
        ("0.123456", 6, "0.123456", "0.123456", "0.123456", "0.123456"),
    ] as [(String, Int, String, String, String, String)])
    func roundsInEveryMode(value: String, decimals: Int, up: String, halfUp: String, down: String, halfEven: String) throws {
        let eur = try Currency("EUR")
        let money = try Money(parsing: value, currency: eur)
        for (mode, expected) in [(RoundingMode.up, up), (.halfUp, halfUp), (.down, down), (.halfEven, halfEven)] {
            #expect(try money.rounded(decimals: decimals, mode: mode).formatted(decimals: decimals) == expected, "\(mode)")
        }
    }

    @Test func roundingRefusesDecimalsOutOfRange() {
        #expect(throws: MoneyError.invalidDecimals(7)) { try RoundingMode.up.round(micros: 1, decimals: 7) }
    }

    @Test func formatsShortestExactDecimal() {
        #expect(Money.format(micros: 12_500, minimumDecimals: 2) == "0.0125")
        #expect(Money.format(micros: 1_000_000, minimumDecimals: 2) == "1.00")
        #expect(Money.format(micros: -50_000, minimumDecimals: 0) == "-0.05")
        #expect(Money.format(micros: 3_000_000, minimumDecimals: 0) == "3")
    }

    @Test func parseAndFormatRoundTrip() async {
        await propertyCheck(count: 500, input: Gen.int64(in: -999_999_999_999_999...999_999_999_999_999)) { micros throws in
            let text = Money.format(micros: micros, minimumDecimals: 0)
            #expect(try Money.parseMicros(text) == micros)
        }
    }

    @Test func roundingIsMonotoneAndClose() async {
        await propertyCheck(count: 500, input: Gen.int64(in: -10_000_000...10_000_000), Gen.int(in: 0...6)) { micros, decimals throws in
            var unit: Int64 = 1
            for _ in decimals..<6 { unit *= 10 }
            for mode in RoundingMode.allCases {
                let rounded = try mode.round(micros: micros, decimals: decimals)
                let next = try mode.round(micros: micros + 1, decimals: decimals)
                #expect(rounded % unit == 0)
                #expect(abs(rounded - micros) < unit)
                #expect(next >= rounded)
            }
        }
    }
}
