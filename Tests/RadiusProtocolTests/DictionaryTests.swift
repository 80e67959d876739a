import Foundation
import RadiusProtocol
import Testing

@Suite struct DictionaryTests {
    @Test func theShippedDictionaryNamesWhatRatelUses() throws {
        let dictionary = try RadiusDictionary.shipped()
        #expect(dictionary.attribute(named: "user-name")?.key == RadiusDictionary.Key(1))
        #expect(dictionary.attribute(named: "User-Password")?.encrypt == 1)
        #expect(dictionary.attribute(named: "Message-Authenticator")?.key == RadiusDictionary.Key(80))
        #expect(dictionary.attribute(named: "Error-Cause")?.key == RadiusDictionary.Key(101))
        #expect(dictionary.attribute(named: "Digest-URI")?.key == RadiusDictionary.Key(109))
        #expect(dictionary.attribute(named: "h323-credit-time")?.key == RadiusDictionary.Key(vendor: 9, 102))
        #expect(dictionary.vendors["cisco"] == 9)
        let status = try #require(dictionary.attribute(named: "Acct-Status-Type")).key
        #expect(dictionary.value(named: "Interim-Update", of: status) == 3)
        #expect(dictionary.valueName(15, of: status) == "Failed")
        #expect(dictionary.attribute(named: "Sip-Method") == nil)
    }

    @Test func theKamailioDictionaryOverridesTheNumbersItReuses() throws {
        var dictionary = try RadiusDictionary.shipped()
        try dictionary.read(path: RadiusDictionary.shippedDirectory + "/dictionary.kamailio")
        #expect(dictionary.attribute(RadiusDictionary.Key(101))?.name == "Sip-Method")
        #expect(dictionary.attribute(named: "Sip-Method")?.type == .integer)
        #expect(dictionary.attribute(named: "SIP-AVP")?.key == RadiusDictionary.Key(225))
        let service = try #require(dictionary.attribute(named: "Service-Type")).key
        #expect(dictionary.value(named: "Sip-Session", of: service) == 15)
        let status = try #require(dictionary.attribute(named: "Acct-Status-Type")).key
        #expect(dictionary.value(named: "Alive", of: status) == 3)
    }

    @Test func anOperatorsVendorDictionaryIsIncludedRelativeToItsFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dict-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/vendors", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "$INCLUDE vendors/dictionary.quintum\n".write(toFile: directory + "/dictionary", atomically: true, encoding: .utf8)
        try """
            VENDOR Quintum 6618
            BEGIN-VENDOR Quintum
            ATTRIBUTE Quintum-AVPair 1 string
            ATTRIBUTE Quintum-h323-credit-time 102 string # same idea as Cisco's
            END-VENDOR Quintum
            """.write(toFile: directory + "/vendors/dictionary.quintum", atomically: true, encoding: .utf8)
        var dictionary = try RadiusDictionary.shipped()
        try dictionary.read(path: directory + "/dictionary")
        #expect(dictionary.attribute(named: "quintum-h323-credit-time")?.key == RadiusDictionary.Key(vendor: 6618, 102))
        #expect(dictionary.attribute(named: "User-Name") != nil)
    }

    @Test(arguments: [
        ("ATTRIBUTE Foo 1", 1, "ATTRIBUTE needs a name, a number and a type"),
        ("\nATTRIBUTE Foo 300 integer", 2, "attribute number 300 is out of range"),
        ("ATTRIBUTE Foo 7 float", 1, "unknown attribute type float"),
        ("VALUE Nothing-Here Yes 1", 1, "VALUE for unknown attribute Nothing-Here"),
        ("BEGIN-VENDOR Nobody", 1, "BEGIN-VENDOR names an unknown vendor Nobody"),
        ("# fine\nFROBNICATE x", 2, "unknown keyword FROBNICATE"),
        ("$INCLUDE missing.file", 1, "cannot read dictionary file"),
    ])
    func aBadLineIsNamedByFileAndLine(text: String, line: Int, message: String) throws {
        var dictionary = RadiusDictionary()
        do {
            try dictionary.read(text: text, file: "/tmp/operator.dict")
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.message == message)
            if message != "cannot read dictionary file" {
                #expect(error.file == "/tmp/operator.dict")
                #expect(error.line == line)
            }
        }
        #expect(dictionary.attributeCount == 0)
    }

    @Test func anIncludeLoopIsReported() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("loop-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "$INCLUDE \((path as NSString).lastPathComponent)\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: DictionaryError.self) { try RadiusDictionary.load(path: path) }
    }
}
