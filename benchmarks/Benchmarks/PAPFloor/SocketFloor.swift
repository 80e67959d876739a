import CFloorDatagrams
import Foundation
import RadiusBenchSupport

/// Raw sockets: each thread receives up to `batch` datagrams at once, answers them in order and
/// sends the replies in one go. With a journal, each thread first writes a 96-octet record per
/// answer to a file of its own and fdatasyncs it, as little as a durable reservation can cost.
enum SocketFloor {
    static let batch = 32
    static let slot = 4097
    static let journalMebibytes = 64

    static func start(_ floor: Floor, port: UInt16, threads: Int, journal: String? = nil) throws {
        for index in 0..<threads {
            let descriptor = try bind(port: port)
            var journalDescriptor: Int32 = -1
            if let journal {
                journalDescriptor = open("\(journal).\(index)", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
                guard journalDescriptor >= 0 else { throw LoadError("open \(journal).\(index): errno \(errno)") }
                // Written through once, so that later writes overwrite allocated blocks and an
                // fdatasync has no file size or extent to commit to the filesystem's journal.
                let zeros = [UInt8](repeating: 0, count: 1 << 20)
                for _ in 0..<journalMebibytes { _ = zeros.withUnsafeBytes { write(journalDescriptor, $0.baseAddress, $0.count) } }
                _ = fsync(journalDescriptor)
            }
            let thread = Thread { [journalDescriptor] in serve(floor, on: descriptor, journal: journalDescriptor) }
            thread.start()
        }
    }

    private static func bind(port: UInt16) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw LoadError("socket: errno \(errno)") }
        var one: Int32 = 1
        var bufferBytes: Int32 = 4 << 20
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &bufferBytes, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &bufferBytes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw LoadError("bind 127.0.0.1:\(port): errno \(errno)") }
        return descriptor
    }

    private static func serve(_ floor: Floor, on descriptor: Int32, journal: Int32) {
        let record = 96
        let records = UnsafeMutableRawPointer.allocate(byteCount: record * batch, alignment: 16)
        var journalOffset = 0
        let buffers = UnsafeMutableRawPointer.allocate(byteCount: slot * batch, alignment: 16)
        let senders = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: batch)
        let senderLengths = UnsafeMutablePointer<socklen_t>.allocate(capacity: batch)
        let lengths = UnsafeMutablePointer<Int>.allocate(capacity: batch)
        let replies = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: batch)
        let replyLengths = UnsafeMutablePointer<Int>.allocate(capacity: batch)
        let receivers = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: batch)
        let receiverLengths = UnsafeMutablePointer<socklen_t>.allocate(capacity: batch)
        for index in 0..<batch { replies[index] = UnsafeMutableRawPointer.allocate(byteCount: slot, alignment: 16) }
        while true {
            let received = floor_receive(descriptor, buffers, slot, Int32(batch), senders, senderLengths, lengths)
            guard received > 0 else { continue }
            var answered = 0
            for index in 0..<Int(received) {
                let datagram = UnsafeRawBufferPointer(start: buffers + slot * index, count: min(lengths[index], slot))
                guard let reply = floor.answer(datagram), let target = replies[answered] else { continue }
                reply.withUnsafeBytes { bytes in
                    if let base = bytes.baseAddress { target.copyMemory(from: base, byteCount: min(bytes.count, slot)) }
                }
                replyLengths[answered] = min(reply.count, slot)
                receivers[answered] = senders[index]
                receiverLengths[answered] = senderLengths[index]
                // A reservation's worth of journal: the request's first octets stand in for its fields.
                (records + record * answered).copyMemory(from: buffers + slot * index, byteCount: min(record, lengths[index]))
                answered += 1
            }
            if journal >= 0, answered > 0 {
                // A floor that lost its journal would measure nothing: stop at once.
                guard pwrite(journal, records, record * answered, off_t(journalOffset)) == record * answered, fdatasync(journal) == 0 else {
                    FileHandle.standardError.write(Data("PAPFloor: journal write failed: errno \(errno)\n".utf8))
                    exit(1)
                }
                journalOffset += record * answered
                if journalOffset + record * batch > journalMebibytes << 20 { journalOffset = 0 }
            }
            _ = floor_send(descriptor, replies, replyLengths, receivers, receiverLengths, Int32(answered))
        }
    }
}
