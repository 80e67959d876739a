import Foundation
import RadiusProtocol
import Testing

/// One case of vectors/packets.txt: a datagram and the outcome the codec must give.
struct PacketVector: CustomTestStringConvertible, Sendable {
    let fields: [String: String]

    var name: String { fields["name"] ?? "?" }
    var testDescription: String { name }
    var bytes: [UInt8] { hexBytes(fields["hex"] ?? "") }
    var expect: [String] { (fields["expect"] ?? "").split(separator: " ", maxSplits: 1).map(String.init) }
    var secret: [UInt8] { Array((fields["secret"] ?? "").utf8) }

    static let all: [PacketVector] = {
        guard let url = Bundle.module.url(forResource: "packets", withExtension: "txt", subdirectory: "vectors"),
              let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.components(separatedBy: "\n\n").compactMap { block in
            var fields: [String: String] = [:]
            for line in block.split(separator: "\n") where !line.hasPrefix("#") {
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                fields[parts[0]] = parts.count == 2 ? parts[1] : ""
            }
            return fields["name"] == nil ? nil : PacketVector(fields: fields)
        }
    }()
}

func hexBytes(_ hex: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
        bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
        index = next
    }
    return bytes
}

@Suite struct PacketVectorTests {
    @Test func theVectorFileIsRead() {
        #expect(PacketVector.all.count >= 80)
    }

    @Test(arguments: PacketVector.all)
    func vector(_ vector: PacketVector) throws {
        let outcome = vector.expect
        let decoded = Result { () throws(FrameError) in try RadiusPacket(decoding: vector.bytes) }
        if outcome.first == "frame-error" {
            #expect(throws: FrameError.self) { try decoded.get() }
            if case .failure(let error) = decoded { #expect(error.reason == outcome.last) }
            return
        }
        let packet = try decoded.get()
        switch outcome.first {
        case "port-error":
            let listener = try #require(Listener(rawValue: vector.fields["port"] ?? ""))
            #expect(throws: FrameError.self) { try packet.checkArrival(on: listener) }
            do { try packet.checkArrival(on: listener) } catch { #expect(error.reason == outcome.last) }
        case "ok":
            let counts = (outcome.last ?? "").split(separator: " ").compactMap { Int($0) }
            #expect(Int(packet.code.rawValue) == counts.first)
            #expect(packet.attributes.count == counts.last)
            if vector.fields["check"] != nil { try packet.verifyRequest(secret: vector.secret, policy: policy(vector)) }
        case "auth-error":
            do {
                try packet.verifyRequest(secret: vector.secret, policy: policy(vector))
                Issue.record("verified, expected \(outcome.last ?? "")")
            } catch {
                #expect(error.reason == outcome.last)
            }
        case "password":
            #expect(try packet.presentedCredential(secret: vector.secret) == .password(Array((outcome.count > 1 ? outcome[1] : "").utf8)))
        case "credential-error":
            do {
                _ = try packet.presentedCredential(secret: vector.secret)
                Issue.record("decoded, expected \(outcome.last ?? "")")
            } catch {
                #expect(error.reason == outcome.last)
            }
        case "chap":
            let words = (outcome.last ?? "").split(separator: " ").map(String.init)
            guard case .chap(let response, let challenge) = try packet.presentedCredential(secret: vector.secret) else {
                Issue.record("no CHAP credential")
                return
            }
            let matches = CHAP.matches(chapPassword: response, challenge: challenge, password: Array(words[0].utf8))
            #expect(matches == (words[1] == "match"))
        case "digest":
            let words = (outcome.last ?? "").split(separator: " ").map(String.init)
            let digest = try #require(try SIPDigest(packet))
            #expect(digest.matches(password: Array(words[0].utf8)) == (words[1] == "match"))
        case "digest-error":
            do {
                _ = try SIPDigest(packet)
                Issue.record("decoded, expected \(outcome.last ?? "")")
            } catch {
                #expect(error.reason == outcome.last)
            }
        case "reply":
            let spec = (vector.fields["reply"] ?? "").split(separator: " ", omittingEmptySubsequences: false)
            let code = try #require(UInt8(spec[0]).flatMap(RadiusCode.init(rawValue:)))
            let encoded = try PacketEncoder.response(code, to: packet, attributes: attributes(hexBytes(spec.count > 1 ? String(spec[1]) : "")),
                                                     secret: vector.secret, withMessageAuthenticator: vector.fields["ma"] == "yes")
            #expect(encoded == hexBytes(outcome.last ?? ""))
        default:
            Issue.record("unknown expectation \(outcome)")
        }
        try extraChecks(vector, packet)
    }

    /// Splits encoded attributes back into (type, value) pairs.
    private func attributes(_ bytes: [UInt8]) -> [OutgoingAttribute] {
        var result: [OutgoingAttribute] = []
        var index = 0
        while index + 1 < bytes.count {
            let length = Int(bytes[index + 1])
            result.append(OutgoingAttribute(bytes[index], Array(bytes[index + 2..<index + length])))
            index += length
        }
        return result
    }

    private func policy(_ vector: PacketVector) -> RequestPolicy {
        switch vector.fields["check"] {
        case "legacy": RequestPolicy(requireMessageAuthenticator: false, limitProxyState: true)
        case "insecure": RequestPolicy(requireMessageAuthenticator: false, limitProxyState: false)
        default: RequestPolicy()
        }
    }

    private func extraChecks(_ vector: PacketVector, _ packet: RadiusPacket) throws {
        if let integer = vector.fields["integer"]?.split(separator: " ") {
            let type = try #require(UInt8(integer[0]))
            #expect(packet.integer(type).map { String($0) } ?? "none" == String(integer[1]))
        }
        if let value = vector.fields["value"]?.split(separator: " ") {
            let type = try #require(UInt8(value[0]))
            #expect(packet.first(type).map(Array.init) == hexBytes(String(value[1])))
        }
        if let vsa = vector.fields["vsa"]?.split(separator: " ", maxSplits: 2) {
            let values = packet.vendorValues(vendor: try #require(UInt32(vsa[0])), type: try #require(UInt8(vsa[1])))
            let expected = String(vsa[2])
            #expect(values.map { String(decoding: $0, as: UTF8.self) } == (expected == "none" ? [] : [expected]))
        }
    }
}
