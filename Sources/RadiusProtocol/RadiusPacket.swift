/// RADIUS packet codes (RFC 2865 section 3, RFC 2866, RFC 5176, RFC 5997, RFC 7930).
public enum RadiusCode: UInt8, Sendable, CaseIterable {
    case accessRequest = 1
    case accessAccept = 2
    case accessReject = 3
    case accountingRequest = 4
    case accountingResponse = 5
    case accessChallenge = 11
    case statusServer = 12
    case statusClient = 13
    case disconnectRequest = 40
    case disconnectACK = 41
    case disconnectNAK = 42
    case coaRequest = 43
    case coaACK = 44
    case coaNAK = 45
    case protocolError = 52

    /// The case's name, for metric labels and logs; spelled out because `"\(code)"` reflects on
    /// the enumeration, which cost a microsecond on every reply.
    public var name: String {
        switch self {
        case .accessRequest: "accessRequest"
        case .accessAccept: "accessAccept"
        case .accessReject: "accessReject"
        case .accountingRequest: "accountingRequest"
        case .accountingResponse: "accountingResponse"
        case .accessChallenge: "accessChallenge"
        case .statusServer: "statusServer"
        case .statusClient: "statusClient"
        case .disconnectRequest: "disconnectRequest"
        case .disconnectACK: "disconnectACK"
        case .disconnectNAK: "disconnectNAK"
        case .coaRequest: "coaRequest"
        case .coaACK: "coaACK"
        case .coaNAK: "coaNAK"
        case .protocolError: "protocolError"
        }
    }
}

/// Where one attribute's value lies in its packet: the packet keeps one buffer and one list of
/// spans, so decoding a request allocates twice whatever its attributes.
public struct AttributeSpan: Sendable, Equatable {
    public let type: UInt8
    /// Offset of the value (after the type and length octets) in the packet's bytes.
    public let offset: Int
    public let count: Int
}

/// A RADIUS packet whose framing was checked: code known, 20 <= Length <= 4096, and attributes
/// that exactly fill Length. Nothing about the values is trusted yet.
public struct RadiusPacket: Sendable {
    /// The packet's bytes up to its Length field (padding beyond it dropped).
    public let bytes: [UInt8]
    public let code: RadiusCode
    public let attributes: [AttributeSpan]

    init(bytes: [UInt8], code: RadiusCode, attributes: [AttributeSpan]) {
        self.bytes = bytes
        self.code = code
        self.attributes = attributes
    }

    public static let headerLength = 20
    public static let maximumLength = 4096

    public var identifier: UInt8 { bytes[1] }
    public var authenticator: ArraySlice<UInt8> { bytes[4..<20] }

    public func value(_ span: AttributeSpan) -> ArraySlice<UInt8> { bytes[span.offset..<span.offset + span.count] }

    /// The first value of an attribute type, if any.
    public func first(_ type: UInt8) -> ArraySlice<UInt8>? {
        attributes.first { $0.type == type }.map(value)
    }

    /// Every value of an attribute type, in packet order.
    public func all(_ type: UInt8) -> [ArraySlice<UInt8>] {
        attributes.filter { $0.type == type }.map(value)
    }
}
