public import NIOCore
public import RadiusProtocol

/// How to reach a call on its NAS with RFC 5176: the NAS's address and Disconnect port, and the
/// NAS and session identification attributes as the NAS itself sent them (section 3). The
/// secret is not kept here; it is looked up by client name when a request goes out, so the
/// live-call registry never holds one.
public struct SessionHandle: Sendable, Equatable {
    public var client: String
    /// Where the NAS's request came from; its port is not the Disconnect port.
    private var source: SocketAddress
    private var disconnectPort: Int
    public var acceptsCoA: Bool

    /// The NAS's Disconnect/CoA address. Made when a request goes out, not when the call is
    /// filed: setting a socket address's port allocates, and few calls are ever disconnected.
    public var address: SocketAddress {
        var address = source
        address.port = disconnectPort
        return address
    }
    /// The identifying attributes, copied out of the request into one run of octets: per
    /// attribute its type, 1 and the Cisco sub-type (or 0 and 0), the value's length and the value.
    /// Slices of the request kept the whole packet and an array of slice headers alive for every
    /// live call: about 400 of the 1,200 bytes of heap a call held (jemalloc's statistics).
    private var identifiers: [UInt8]

    /// NAS-IP-Address, NAS-Identifier, NAS-IPv6-Address, User-Name and Acct-Session-Id, octet for
    /// octet as the NAS sent them; Cisco voice gateways also need h323-conf-id and h323-call-origin
    /// exactly as they reported them (Cisco "RADIUS Packet of Disconnect").
    public var identification: [OutgoingAttribute] {
        Entries(run: identifiers).map { entry in
            let value = Array(identifiers[entry.value])
            guard let ciscoType = entry.ciscoType else { return OutgoingAttribute(entry.type, value) }
            return OutgoingAttribute(vendor: CiscoVSA.vendor, type: ciscoType, value)
        }
    }

    /// Nil when the client's profile has no Disconnect port (Kamailio 5.6).
    init?(request packet: RadiusPacket, from source: SocketAddress, client: NASClient) {
        guard let port = client.profile.disconnectPort else { return nil }
        self.client = client.name
        self.source = source
        disconnectPort = port
        acceptsCoA = client.profile.acceptsCoA
        identifiers = Self.identifiers(of: packet, cisco: client.profile.ciscoVSAs)
    }

    private static let identifyingTypes = [AttributeType.nasIPAddress, AttributeType.nasIdentifier, AttributeType.nasIPv6Address,
                                           AttributeType.userName, AttributeType.acctSessionId]
    private static let identifyingCiscoTypes = [CiscoVSA.confID, CiscoVSA.callOrigin]

    /// Runs for every authorised call: the values are measured first, so the run is allocated
    /// once, and nothing else is (a list of the values found was an allocation a call). Cisco's
    /// are looked up once, before both passes: each lookup decodes every Vendor-Specific attribute.
    private static func identifiers(of packet: RadiusPacket, cisco: Bool) -> [UInt8] {
        let ciscoValues = cisco ? identifyingCiscoTypes.compactMap { type in
            packet.vendorValues(vendor: CiscoVSA.vendor, type: type).first.map { (type: type, value: $0) }
        } : []
        var length = 0
        forEachIdentifier(of: packet, ciscoValues) { _, _, value in length += Entry.headerSize + value.count }
        var run: [UInt8] = []
        run.reserveCapacity(length)
        forEachIdentifier(of: packet, ciscoValues) { type, ciscoType, value in
            run.append(type)
            run.append(ciscoType == nil ? 0 : 1)
            run.append(ciscoType ?? 0)
            run.append(UInt8(value.count))
            run.append(contentsOf: value)
        }
        return run
    }

    private static func forEachIdentifier(of packet: RadiusPacket, _ ciscoValues: [(type: UInt8, value: ArraySlice<UInt8>)],
                                          _ body: (_ type: UInt8, _ ciscoType: UInt8?, _ value: ArraySlice<UInt8>) -> Void) {
        // A decoded attribute's value is at most 253 octets, so its length fits the one octet.
        for type in identifyingTypes {
            if let value = packet.first(type), !value.isEmpty, value.count <= 253 { body(type, nil, value) }
        }
        for (type, value) in ciscoValues where !value.isEmpty && value.count <= 247 {
            body(AttributeType.vendorSpecific, type, value)
        }
    }

    private struct Entry {
        static let headerSize = 4
        var type: UInt8
        var ciscoType: UInt8?
        /// The value's octets in the run.
        var value: Range<Int>
        /// The entry's octets in the run, header included.
        var whole: Range<Int> { (value.lowerBound - Self.headerSize)..<value.upperBound }
    }

    /// The entries of a run this type wrote, so always well formed; read in place, since a
    /// call's Start merges two handles and an array of entries cost an allocation per handle.
    private struct Entries: Sequence, IteratorProtocol {
        let run: [UInt8]
        var offset = 0

        mutating func next() -> Entry? {
            guard offset + Entry.headerSize <= run.count else { return nil }
            let end = Swift.min(run.count, offset + Entry.headerSize + Int(run[offset + 3]))
            defer { offset = end }
            return Entry(type: run[offset], ciscoType: run[offset + 1] == 1 ? run[offset + 2] : nil,
                         value: (offset + Entry.headerSize)..<end)
        }
    }

    /// Accounting names the session more fully than the Access-Request did (Acct-Session-Id,
    /// h323-call-origin): its attributes win, the address is where the NAS last spoke from.
    func updated(by newer: SessionHandle) -> SessionHandle {
        var merged = newer
        for entry in Entries(run: identifiers)
        where !Entries(run: newer.identifiers).contains(where: { $0.type == entry.type && $0.ciscoType == entry.ciscoType }) {
            merged.identifiers.append(contentsOf: identifiers[entry.whole])
        }
        return merged
    }
}

/// What came of a Disconnect-Request or CoA-Request.
public enum ControlOutcome: Sendable, Equatable {
    /// Disconnect-ACK or CoA-ACK.
    case acknowledged
    /// NAK with Error-Cause 503 (Session Context Not Found): the call is already gone.
    case sessionGone
    /// Any other NAK, with its Error-Cause if it gave one.
    case refused(errorCause: UInt32?)
    /// No valid answer after every retransmission.
    case noAnswer
    /// The call's NAS takes no such request (no Disconnect port, or no CoA in its profile).
    case unsupported

    public var label: String {
        switch self {
        case .acknowledged: "acknowledged"
        case .sessionGone: "session_gone"
        case .refused(let cause): "refused" + (cause.map { "_\($0)" } ?? "")
        case .noAnswer: "no_answer"
        case .unsupported: "unsupported"
        }
    }

    /// Whether the call is known to be over (or being torn down) on the NAS.
    public var callEnded: Bool { self == .acknowledged || self == .sessionGone }
}
