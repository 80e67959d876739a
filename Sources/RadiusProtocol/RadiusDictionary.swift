import Foundation

/// A dictionary line that cannot be used; the message names the file and line.
public struct DictionaryError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let message: String

    public var description: String { "\(file):\(line): \(message)" }
}

/// The types an attribute value can have, as FreeRADIUS 3 dictionaries name them.
public enum AttributeDataType: String, Sendable, CaseIterable {
    case string, octets, ipaddr, ipv4prefix, ipv6addr, ipv6prefix, integer, date, byte, short, signed
    case integer64, ifid, ether, abinary, tlv, vsa, extended, longExtended = "long-extended", evs
    case comboIP = "combo-ip"
}

/// Attribute names and numbers, values and vendors, read from FreeRADIUS-format dictionary files
/// (`ATTRIBUTE`, `VALUE`, `VENDOR`, `BEGIN-VENDOR`/`END-VENDOR`, `BEGIN-TLV`/`END-TLV`,
/// `$INCLUDE`). Names are matched without regard to case, as FreeRADIUS does. A later definition
/// of a name or number replaces an earlier one, which is how a client profile's dictionary
/// (Kamailio's SIP attributes) overrides the standard numbers it reuses.
public struct RadiusDictionary: Sendable {
    public struct Key: Hashable, Sendable {
        /// 0 for the standard space.
        public let vendor: UInt32
        public let number: UInt32

        public init(vendor: UInt32 = 0, _ number: UInt32) {
            self.vendor = vendor
            self.number = number
        }
    }

    public struct Attribute: Sendable, Equatable {
        public let name: String
        public let key: Key
        public let type: AttributeDataType
        /// `encrypt=1` is User-Password hiding.
        public let encrypt: Int?
        public let hasTag: Bool
    }

    public private(set) var vendors: [String: UInt32] = [:]
    private var byName: [String: Attribute] = [:]
    private var byKey: [Key: Attribute] = [:]
    private var valueNames: [Key: [UInt32: String]] = [:]
    private var valueNumbers: [Key: [String: UInt32]] = [:]

    public init() {}

    public func attribute(named name: String) -> Attribute? { byName[name.lowercased()] }
    public func attribute(_ key: Key) -> Attribute? { byKey[key] }
    public func valueName(_ value: UInt32, of key: Key) -> String? { valueNames[key]?[value] }
    public func value(named name: String, of key: Key) -> UInt32? { valueNumbers[key]?[name.lowercased()] }
    public var attributeCount: Int { byKey.count }

    /// Reads `path` and the files it includes.
    public static func load(path: String) throws(DictionaryError) -> RadiusDictionary {
        var dictionary = RadiusDictionary()
        try dictionary.read(path: path)
        return dictionary
    }

    /// Adds the definitions of `path` (and its includes) over the current ones.
    public mutating func read(path: String) throws(DictionaryError) {
        var parser = DictionaryParser(into: self)
        try parser.read(path: path, depth: 0)
        try parser.finish()
        self = parser.dictionary
    }

    /// Adds definitions from `text`; `file` names it in errors and anchors relative includes.
    public mutating func read(text: String, file: String) throws(DictionaryError) {
        var parser = DictionaryParser(into: self)
        try parser.parse(text, file: file, depth: 0)
        try parser.finish()
        self = parser.dictionary
    }

    mutating func define(_ attribute: Attribute) {
        if let previous = byKey[attribute.key], byName[previous.name.lowercased()]?.key == attribute.key {
            byName[previous.name.lowercased()] = nil
        }
        byName[attribute.name.lowercased()] = attribute
        byKey[attribute.key] = attribute
    }

    mutating func defineValue(_ name: String, _ number: UInt32, of key: Key) {
        valueNames[key, default: [:]][number] = name
        valueNumbers[key, default: [:]][name.lowercased()] = number
    }

    mutating func defineVendor(_ name: String, _ id: UInt32) { vendors[name.lowercased()] = id }
}

/// One pass over dictionary text; VALUE lines may name attributes defined later in the same
/// read, so they are resolved at the end.
struct DictionaryParser {
    var dictionary: RadiusDictionary
    private var pendingValues: [(attribute: String, name: String, number: UInt32, file: String, line: Int)] = []
    private var vendorStack: [UInt32] = []
    private var tlvDepth = 0

    init(into dictionary: RadiusDictionary) { self.dictionary = dictionary }

    mutating func read(path: String, depth: Int) throws(DictionaryError) {
        guard depth < 16 else { throw DictionaryError(file: path, line: 0, message: "$INCLUDE nested more than 16 deep (a loop?)") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DictionaryError(file: path, line: 0, message: "cannot read dictionary file")
        }
        guard let text = String(data: data, encoding: .utf8) ?? String(data: data, encoding: .isoLatin1) else {
            throw DictionaryError(file: path, line: 0, message: "dictionary file is not text")
        }
        try parse(text, file: path, depth: depth)
    }

    mutating func parse(_ text: String, file: String, depth: Int) throws(DictionaryError) {
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            let content = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            guard let keyword = fields.first else { continue }
            func fail(_ message: String) -> DictionaryError { DictionaryError(file: file, line: line, message: message) }
            switch keyword.uppercased() {
            case "$INCLUDE", "$INCLUDE-":
                guard fields.count == 2 else { throw fail("$INCLUDE takes one file name") }
                let target = fields[1].hasPrefix("/") ? fields[1]
                    : (file as NSString).deletingLastPathComponent + "/" + fields[1]
                if keyword == "$INCLUDE-", !FileManager.default.fileExists(atPath: target) { continue }
                try read(path: target, depth: depth + 1)
            case "VENDOR":
                guard fields.count >= 3, let id = number(fields[2]), id <= 0xFF_FFFF else {
                    throw fail("VENDOR needs a name and a vendor id of at most 24 bits")
                }
                dictionary.defineVendor(fields[1], id)
            case "BEGIN-VENDOR":
                guard fields.count >= 2, let id = dictionary.vendors[fields[1].lowercased()] else {
                    throw fail("BEGIN-VENDOR names an unknown vendor \(fields.dropFirst().first ?? "")")
                }
                vendorStack.append(id)
            case "END-VENDOR":
                guard vendorStack.popLast() != nil else { throw fail("END-VENDOR without BEGIN-VENDOR") }
            case "BEGIN-TLV":
                tlvDepth += 1
            case "END-TLV":
                guard tlvDepth > 0 else { throw fail("END-TLV without BEGIN-TLV") }
                tlvDepth -= 1
            case "ATTRIBUTE":
                try attribute(fields, fail: fail)
            case "VALUE":
                guard fields.count == 4, let value = number(fields[3]) else { throw fail("VALUE needs an attribute, a name and a number") }
                pendingValues.append((fields[1], fields[2], value, file, line))
            case "PROTOCOL", "BEGIN-PROTOCOL", "END-PROTOCOL", "FLAGS":
                continue
            default:
                throw fail("unknown keyword \(keyword)")
            }
        }
    }

    private mutating func attribute(_ fields: [String], fail: (String) -> DictionaryError) throws(DictionaryError) {
        guard fields.count >= 4 else { throw fail("ATTRIBUTE needs a name, a number and a type") }
        let typeName = fields[3].split(separator: "[").first.map(String.init) ?? fields[3]
        guard let type = AttributeDataType(rawValue: typeName.lowercased()) else { throw fail("unknown attribute type \(fields[3])") }
        var vendor = vendorStack.last ?? 0
        var encrypt: Int?
        var hasTag = false
        if fields.count >= 5 {
            for option in fields[4].split(separator: ",") {
                let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
                switch parts[0] {
                case "encrypt": encrypt = parts.count == 2 ? Int(parts[1]) : nil
                case "has_tag": hasTag = true
                case "array", "concat", "virtual", "abinary", "internal", "secret": continue
                default:
                    guard fields.count == 5, let id = dictionary.vendors[fields[4].lowercased()] else {
                        throw fail("unknown attribute option or vendor \(option)")
                    }
                    vendor = id
                }
            }
        }
        // Dotted numbers (TLV members, RFC 6929 extended attributes) are named for reading
        // operators' files, but Ratel decodes only the flat numbering.
        if tlvDepth > 0 || fields[2].contains(".") { return }
        guard let number = number(fields[2]), vendor != 0 || number <= 255, number <= 0xFFFF else {
            throw fail("attribute number \(fields[2]) is out of range")
        }
        dictionary.define(RadiusDictionary.Attribute(name: fields[1], key: RadiusDictionary.Key(vendor: vendor, number),
                                                     type: type, encrypt: encrypt, hasTag: hasTag))
    }

    mutating func finish() throws(DictionaryError) {
        for pending in pendingValues {
            guard let attribute = dictionary.attribute(named: pending.attribute) else {
                throw DictionaryError(file: pending.file, line: pending.line, message: "VALUE for unknown attribute \(pending.attribute)")
            }
            dictionary.defineValue(pending.name, pending.number, of: attribute.key)
        }
        pendingValues = []
        guard vendorStack.isEmpty else { throw DictionaryError(file: "dictionary", line: 0, message: "BEGIN-VENDOR without END-VENDOR") }
    }

    private func number(_ text: String) -> UInt32? {
        if text.lowercased().hasPrefix("0x") { return UInt32(text.dropFirst(2), radix: 16) }
        return UInt32(text)
    }
}
