public import NIOCore
public import RadiusProtocol

/// How to reach a call on its NAS with RFC 5176: the NAS's address and Disconnect port, and the
/// NAS and session identification attributes as the NAS itself sent them (section 3). The
/// secret is not kept here; it is looked up by client name when a request goes out, so the
/// live-call registry never holds one.
public struct SessionHandle: Sendable, Equatable {
    public var client: String
    public var address: SocketAddress
    public var acceptsCoA: Bool
    /// The identifying attributes as slices of the request that carried them: a handle is made
    /// for every call and a Disconnect-Request for few, so they are copied only when one goes out.
    private var identifiers: [Identifier]

    struct Identifier: Sendable, Equatable {
        let type: UInt8
        /// The sub-attribute of a Cisco VSA.
        let ciscoType: UInt8?
        let value: ArraySlice<UInt8>

        var attribute: OutgoingAttribute {
            guard let ciscoType else { return OutgoingAttribute(type, Array(value)) }
            return OutgoingAttribute(vendor: CiscoVSA.vendor, type: ciscoType, Array(value))
        }
    }

    /// NAS-IP-Address, NAS-Identifier, NAS-IPv6-Address, User-Name and Acct-Session-Id, octet for
    /// octet as the NAS sent them; Cisco voice gateways also need h323-conf-id and h323-call-origin
    /// exactly as they reported them (Cisco "RADIUS Packet of Disconnect").
    public var identification: [OutgoingAttribute] { identifiers.map(\.attribute) }

    /// Nil when the client's profile has no Disconnect port (Kamailio 5.6).
    init?(request packet: RadiusPacket, from source: SocketAddress, client: NASClient) {
        guard let port = client.profile.disconnectPort, var address = Optional(source) else { return nil }
        address.port = port
        self.client = client.name
        self.address = address
        acceptsCoA = client.profile.acceptsCoA
        identifiers = Self.identifiers(of: packet, cisco: client.profile.ciscoVSAs)
    }

    private static let identifyingTypes = [AttributeType.nasIPAddress, AttributeType.nasIdentifier, AttributeType.nasIPv6Address,
                                           AttributeType.userName, AttributeType.acctSessionId]
    private static let identifyingCiscoTypes = [CiscoVSA.confID, CiscoVSA.callOrigin]

    private static func identifiers(of packet: RadiusPacket, cisco: Bool) -> [Identifier] {
        var found: [Identifier] = []
        found.reserveCapacity(identifyingTypes.count + (cisco ? identifyingCiscoTypes.count : 0))
        for type in identifyingTypes {
            if let value = packet.first(type), !value.isEmpty { found.append(Identifier(type: type, ciscoType: nil, value: value)) }
        }
        if cisco {
            for type in identifyingCiscoTypes {
                if let value = packet.vendorValues(vendor: CiscoVSA.vendor, type: type).first, !value.isEmpty, value.count <= 247 {
                    found.append(Identifier(type: AttributeType.vendorSpecific, ciscoType: type, value: value))
                }
            }
        }
        return found
    }

    /// Accounting names the session more fully than the Access-Request did (Acct-Session-Id,
    /// h323-call-origin): its attributes win, the address is where the NAS last spoke from.
    func updated(by newer: SessionHandle) -> SessionHandle {
        var merged = newer
        for identifier in identifiers
        where !newer.identifiers.contains(where: { $0.type == identifier.type && $0.ciscoType == identifier.ciscoType }) {
            merged.identifiers.append(identifier)
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
