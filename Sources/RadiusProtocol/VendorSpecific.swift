/// A Vendor-Specific attribute (26) read as the sub-attributes RFC 2865 section 5.26 recommends:
/// a vendor id, then `type(1) length(1) value` entries that exactly fill it. A value that does
/// not follow that shape is not an error: it stays the raw attribute (a robust server "SHOULD
/// support the field as undistinguished octets").
public struct VendorSpecific: Sendable, Equatable {
    public let vendor: UInt32
    public let entries: [(type: UInt8, value: ArraySlice<UInt8>)]

    public init?(_ value: ArraySlice<UInt8>) {
        guard value.count >= 5, value[value.startIndex] == 0 else { return nil }
        let start = value.startIndex
        vendor = UInt32(value[start + 1]) << 16 | UInt32(value[start + 2]) << 8 | UInt32(value[start + 3])
        var entries: [(type: UInt8, value: ArraySlice<UInt8>)] = []
        var offset = start + 4
        while offset < value.endIndex {
            guard value.endIndex - offset >= 2 else { return nil }
            let length = Int(value[offset + 1])
            guard length >= 2, offset + length <= value.endIndex else { return nil }
            entries.append((value[offset], value[offset + 2..<offset + length]))
            offset += length
        }
        self.entries = entries
    }

    public static func == (left: VendorSpecific, right: VendorSpecific) -> Bool {
        left.vendor == right.vendor && left.entries.count == right.entries.count
            && zip(left.entries, right.entries).allSatisfy { $0.type == $1.type && $0.value.elementsEqual($1.value) }
    }
}

extension RadiusPacket {
    /// Every sub-attribute of `vendor` with `type`, in packet order.
    public func vendorValues(vendor: UInt32, type: UInt8) -> [ArraySlice<UInt8>] {
        all(AttributeType.vendorSpecific).compactMap(VendorSpecific.init).filter { $0.vendor == vendor }
            .flatMap { $0.entries.filter { $0.type == type }.map(\.value) }
    }

    /// A 4-octet integer attribute; nil when absent or not exactly 4 octets (kept raw then).
    public func integer(_ type: UInt8) -> UInt32? {
        guard let value = first(type), value.count == 4 else { return nil }
        return value.reduce(0) { $0 << 8 | UInt32($1) }
    }
}
