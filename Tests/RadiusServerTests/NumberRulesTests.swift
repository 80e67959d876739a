import RadiusServer
import Testing

/// How a NAS's Called-Station-Id becomes the digits the rate tries are keyed by.
@Suite struct NumberRulesTests {
    static let retail = NumberRules(techPrefixes: ["0011#", "99"], internationalPrefix: "00", nationalPrefix: "0", countryCode: "359")

    @Test(arguments: [
        ("+359888123456", "359888123456"),
        ("00359888123456", "359888123456"),
        ("  +359888123456\t", "359888123456"),
        ("sip:+359888123456@gw.example;user=phone", "359888123456"),
        ("SIPS:00441234@gw", "441234"),
        ("tel:+15551234;phone-context=x", "15551234"),
        ("sip:359888>", "359888"),
        ("0011#00359888123456", "359888123456"),
        ("99+4420", "4420"),
        ("0888123456", "359888123456"),
        ("0", "359"),
        ("359888123456", "359888123456"),
    ])
    func normalises(raw: String, digits: String) {
        #expect(Self.retail.normalise(raw) == digits)
    }

    @Test(arguments: ["", "+", "00", "sip:", "tel:+1-202-555", "abc", "+35988a", "１２３", "+3598\u{301}8", "sip:@host"])
    func refusesWhatIsNotDigits(raw: String) {
        #expect(Self.retail.normalise(raw) == nil)
    }

    @Test func leavesNationalNumbersAloneWithoutACountryCode() {
        let rules = NumberRules(internationalPrefix: "011", nationalPrefix: "0")
        #expect(rules.normalise("0888") == "0888")
        #expect(rules.normalise("01144") == "44")
        #expect(rules.normalise("00359") == "00359")
    }
}
