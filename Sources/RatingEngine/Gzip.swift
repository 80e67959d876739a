import CZlib

/// Inflates gzip data (shipped decks are compressed), with a cap so a crafted file cannot
/// expand without bound.
enum Gzip {
    static let maxInflatedBytes = 1 << 30

    static func inflate(_ input: [UInt8]) throws(DeckError.Reason) -> [UInt8] {
        var stream = z_stream()
        // 15 + 32: a 32 KiB window, with zlib detecting the gzip header itself.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .unreadable("zlib cannot start")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        output.reserveCapacity(min(input.count * 6, maxInflatedBytes))
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        var status: Int32 = Z_OK
        var input = input
        input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            while status == Z_OK {
                chunk.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = UInt32(target.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    output.append(contentsOf: target[0..<(target.count - Int(stream.avail_out))])
                }
                if output.count > maxInflatedBytes { status = Z_MEM_ERROR }
            }
        }
        guard status == Z_STREAM_END else {
            throw .unreadable(status == Z_MEM_ERROR ? "inflates past \(maxInflatedBytes) bytes" : "not valid gzip data")
        }
        return output
    }
}
