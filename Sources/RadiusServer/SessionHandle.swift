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
    public var identification: [OutgoingAttribute]

    /// Nil when the client's profile has no Disconnect port (Kamailio 5.6).
    init?(request packet: RadiusPacket, from source: SocketAddress, client: NASClient) {
        guard let port = client.profile.disconnectPort, var address = Optional(source) else { return nil }
        address.port = port
        self.client = client.name
        self.address = address
        acceptsCoA = client.profile.acceptsCoA
        identification = Self.identification(of: packet, cisco: client.profile.ciscoVSAs)
    }

    /// NAS-IP-Address, NAS-Identifier, NAS-IPv6-Address, User-Name and Acct-Session-Id, copied
    /// octet for octet; Cisco voice gateways also need h323-conf-id and h323-call-origin exactly
    /// as they reported them (Cisco "RADIUS Packet of Disconnect").
    static func identification(of packet: RadiusPacket, cisco: Bool) -> [OutgoingAttribute] {
        let types = [AttributeType.nasIPAddress, AttributeType.nasIdentifier, AttributeType.nasIPv6Address,
                     AttributeType.userName, AttributeType.acctSessionId]
        var attributes = types.compactMap { type in
            packet.first(type).flatMap { $0.isEmpty ? nil : OutgoingAttribute(type, Array($0)) }
        }
        if cisco {
            for type in [CiscoVSA.confID, CiscoVSA.callOrigin] {
                if let value = packet.vendorValues(vendor: CiscoVSA.vendor, type: type).first, !value.isEmpty, value.count <= 247 {
                    attributes.append(OutgoingAttribute(vendor: CiscoVSA.vendor, type: type, Array(value)))
                }
            }
        }
        return attributes
    }

    /// Accounting names the session more fully than the Access-Request did (Acct-Session-Id,
    /// h323-call-origin): its attributes win, the address is where the NAS last spoke from.
    func updated(by newer: SessionHandle) -> SessionHandle {
        var merged = newer
        // A handful of attributes: a linear search beats building a set on every Start.
        for attribute in identification where !newer.identification.contains(where: { $0.fillsSlot(of: attribute) }) {
            merged.identification.append(attribute)
        }
        return merged
    }
}

private extension OutgoingAttribute {
    /// Whether both identify the same thing: the type, and for a VSA the vendor and sub-attribute too.
    func fillsSlot(of other: OutgoingAttribute) -> Bool {
        guard type == other.type else { return false }
        return type != AttributeType.vendorSpecific || value.prefix(5).elementsEqual(other.value.prefix(5))
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
