import RadiusProtocol

/// The values the prepaid policy reads from a request, decoded leniently: text attributes may
/// hold any bytes (invalid UTF-8 becomes U+FFFD, NULs stay), and an integer of the wrong length
/// counts as absent rather than failing the request (RFC 2865 section 5, RFC 5080 section 2.5).
struct RequestFields {
    let packet: RadiusPacket

    func text(_ type: UInt8) -> String? {
        packet.first(type).map { String(decoding: $0, as: UTF8.self) }
    }

    var userName: String? { text(AttributeType.userName) }
    var calledNumber: String? { text(AttributeType.calledStationId).flatMap { $0.isEmpty ? nil : $0 } }
    var callingNumber: String? { text(AttributeType.callingStationId).flatMap { $0.isEmpty ? nil : $0 } }
    var serviceType: UInt32? { packet.integer(AttributeType.serviceType) }
    var acctSessionID: String? { text(AttributeType.acctSessionId).flatMap { $0.isEmpty ? nil : $0 } }
    var statusType: UInt32? { packet.integer(AttributeType.acctStatusType) }
    var sessionTime: UInt32? { packet.integer(AttributeType.acctSessionTime) }
    var delayTime: UInt32? { packet.integer(AttributeType.acctDelayTime) }
    var terminateCause: UInt32? { packet.integer(AttributeType.acctTerminateCause) }
    var classes: [ArraySlice<UInt8>] { packet.all(AttributeType.class) }

    /// Event-Timestamp as 4 octets, or as Kamailio's `rad_time_mode=1` text "1445590624.377372".
    var eventTimestamp: Int64? {
        guard let value = packet.first(AttributeType.eventTimestamp) else { return nil }
        if value.count == 4 { return Int64(value.reduce(0) { $0 << 8 | UInt32($1) }) }
        let text = String(decoding: value, as: UTF8.self)
        return Int64(text.split(separator: ".", maxSplits: 1).first ?? "")
    }

    /// A Cisco h323 VSA (vendor 9), with or without the `name=` prefix Cisco repeats inside the
    /// value; also found as `name=value` in Cisco-AVPair.
    func cisco(_ type: UInt8, _ name: String) -> String? {
        if let value = packet.vendorValues(vendor: CiscoVSA.vendor, type: type).first {
            return CiscoVSA.strip(String(decoding: value, as: UTF8.self), name: name)
        }
        for pair in packet.vendorValues(vendor: CiscoVSA.vendor, type: CiscoVSA.avPair) {
            let text = String(decoding: pair, as: UTF8.self)
            guard let equals = text.firstIndex(of: "="), text[..<equals].trimmingWhitespace() == name else { continue }
            return String(text[text.index(after: equals)...].trimmingWhitespace())
        }
        return nil
    }

    var ciscoConfID: String? { cisco(CiscoVSA.confID, "h323-conf-id") }
    var ciscoCallOrigin: String? { cisco(CiscoVSA.callOrigin, "h323-call-origin") }
    var ciscoDisconnectCause: String? { cisco(CiscoVSA.disconnectCause, "h323-disconnect-cause") }
}

/// Cisco vendor 9 sub-attribute numbers (FreeRADIUS dictionary.cisco).
enum CiscoVSA {
    static let vendor: UInt32 = 9
    static let avPair: UInt8 = 1
    static let confID: UInt8 = 24
    static let callOrigin: UInt8 = 26
    static let disconnectCause: UInt8 = 30
    static let creditAmount: UInt8 = 101
    static let creditTime: UInt8 = 102
    static let returnCode: UInt8 = 103
    static let billingModel: UInt8 = 109
    static let currency: UInt8 = 110

    static func strip(_ text: String, name: String) -> String {
        guard text.hasPrefix(name) else { return String(text.trimmingWhitespace()) }
        let rest = text.dropFirst(name.count).trimmingWhitespace()
        guard rest.first == "=" else { return String(text.trimmingWhitespace()) }
        return String(rest.dropFirst().trimmingWhitespace())
    }

    /// `h323-credit-time=360`: Cisco's own scripts expect the name repeated inside the value.
    static func attribute(_ type: UInt8, _ name: String, _ value: String) -> OutgoingAttribute {
        OutgoingAttribute(vendor: vendor, type: type, Array("\(name)=\(value)".utf8))
    }
}
