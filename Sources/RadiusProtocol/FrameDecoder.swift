/// Why a datagram is not a RADIUS packet at all. Such datagrams are silently discarded (RFC 2865
/// section 3); `reason` is the label they are counted under.
public enum FrameError: Error, Sendable, Equatable, CustomStringConvertible {
    case shorterThanHeader(received: Int)
    case lengthBelowMinimum(Int)
    case lengthAboveMaximum(Int)
    case truncated(declared: Int, received: Int)
    case unknownCode(UInt8)
    case attributeTooShort(offset: Int, length: Int)
    case attributeOverrun(offset: Int, length: Int, remaining: Int)
    case attributeTypeZero(offset: Int)
    case tooManyAttributes(limit: Int)
    case unexpectedCode(UInt8, Listener)

    /// A short stable label for metrics.
    public var reason: String {
        switch self {
        case .shorterThanHeader: "short_datagram"
        case .lengthBelowMinimum: "length_below_minimum"
        case .lengthAboveMaximum: "length_above_maximum"
        case .truncated: "truncated"
        case .unknownCode: "unknown_code"
        case .attributeTooShort: "attribute_too_short"
        case .attributeOverrun: "attribute_overrun"
        case .attributeTypeZero: "attribute_type_zero"
        case .tooManyAttributes: "too_many_attributes"
        case .unexpectedCode: "unexpected_code"
        }
    }

    public var description: String {
        switch self {
        case .shorterThanHeader(let received): "datagram of \(received) octets is shorter than the 20-octet header"
        case .lengthBelowMinimum(let length): "Length field \(length) is below the minimum of 20"
        case .lengthAboveMaximum(let length): "Length field \(length) is above the maximum of 4096"
        case .truncated(let declared, let received): "Length field \(declared) exceeds the \(received) octets received"
        case .unknownCode(let code): "unknown packet code \(code)"
        case .attributeTooShort(let offset, let length): "attribute at offset \(offset) has Length \(length), below 2"
        case .attributeOverrun(let offset, let length, let remaining):
            "attribute at offset \(offset) has Length \(length) but only \(remaining) octets remain"
        case .attributeTypeZero(let offset): "attribute at offset \(offset) has type 0"
        case .tooManyAttributes(let limit): "more than \(limit) attributes"
        case .unexpectedCode(let code, let listener): "packet code \(code) is not a request the \(listener) port answers"
        }
    }
}

/// The two server ports, and what each answers (RFC 2865, RFC 2866, RFC 5997).
public enum Listener: String, Sendable {
    case authentication, accounting

    public func accepts(_ code: RadiusCode) -> Bool {
        switch self {
        case .authentication: code == .accessRequest || code == .statusServer
        case .accounting: code == .accountingRequest || code == .statusServer
        }
    }
}

extension RadiusPacket {
    /// Refuses packets that are not requests this port answers (responses, the other port's
    /// requests), which are discarded like framing errors.
    public func checkArrival(on listener: Listener) throws(FrameError) {
        guard listener.accepts(code) else { throw .unexpectedCode(code.rawValue, listener) }
    }

    /// FreeRADIUS's default `max_attributes`.
    public static let defaultAttributeLimit = 200

    /// Checks the whole frame before anything is decoded: header, Length against the datagram,
    /// and an attribute walk in which every Length is at least 2 and the attributes fill the
    /// packet exactly. Octets beyond Length are padding and are ignored (RFC 2865 section 3).
    public init(decoding datagram: some Collection<UInt8>, attributeLimit: Int = defaultAttributeLimit) throws(FrameError) {
        // One copy into an array, then the walk on concrete bytes: walked through the generic
        // collection from another module, every octet was a protocol call.
        try self.init(decodingBytes: Array(datagram), attributeLimit: attributeLimit)
    }

    private init(decodingBytes received: [UInt8], attributeLimit: Int) throws(FrameError) {
        guard received.count >= Self.headerLength else { throw .shorterThanHeader(received: received.count) }
        let codeByte = received[0]
        let declared = Int(received[2]) << 8 | Int(received[3])
        guard declared >= Self.headerLength else { throw .lengthBelowMinimum(declared) }
        guard declared <= Self.maximumLength else { throw .lengthAboveMaximum(declared) }
        guard declared <= received.count else { throw .truncated(declared: declared, received: received.count) }
        guard let code = RadiusCode(rawValue: codeByte) else { throw .unknownCode(codeByte) }
        let bytes = declared == received.count ? received : Array(received[..<declared])
        // Walked twice: the first pass checks every length and counts, so the spans are one allocation.
        var count = 0
        var offset = Self.headerLength
        while offset < declared {
            guard count < attributeLimit else { throw .tooManyAttributes(limit: attributeLimit) }
            let remaining = declared - offset
            guard remaining >= 2 else { throw .attributeOverrun(offset: offset, length: 2, remaining: remaining) }
            let length = Int(bytes[offset + 1])
            guard bytes[offset] != 0 else { throw .attributeTypeZero(offset: offset) }
            guard length >= 2 else { throw .attributeTooShort(offset: offset, length: length) }
            guard length <= remaining else { throw .attributeOverrun(offset: offset, length: length, remaining: remaining) }
            count += 1
            offset += length
        }
        var spans: [AttributeSpan] = []
        spans.reserveCapacity(count)
        offset = Self.headerLength
        while offset < declared {
            let length = Int(bytes[offset + 1])
            spans.append(AttributeSpan(type: bytes[offset], offset: offset + 2, count: length - 2))
            offset += length
        }
        self.init(bytes: bytes, code: code, attributes: spans)
    }
}
