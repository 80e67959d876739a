import RadiusProtocol

/// Feeds each input to everything the server does with a datagram before its policy runs, and
/// checks what must hold for any bytes at all: a decoded frame describes exactly its octets,
/// and what the encoder writes from it decodes back to the same attributes with valid
/// authenticators. A broken property stops the run like a crash, so libFuzzer keeps the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start, count > 0 else {
        _ = try? RadiusPacket(decoding: [UInt8]())
        return 0
    }
    let datagram = UnsafeBufferPointer(start: start, count: count)
    guard let packet = try? RadiusPacket(decoding: datagram) else { return 0 }
    checkFrame(packet, received: count)
    readLikeTheServer(packet)
    checkReencoding(packet)
    checkResponse(to: packet)
    return 0
}

private let secret = Array("fuzzing-secret".utf8)

private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("property broken: \(message())") }
}

private func checkFrame(_ packet: RadiusPacket, received: Int) {
    let length = packet.bytes.count
    require(length >= RadiusPacket.headerLength && length <= min(received, RadiusPacket.maximumLength),
            "frame of \(length) octets from a datagram of \(received)")
    require(Int(packet.bytes[2]) << 8 | Int(packet.bytes[3]) == length, "Length field differs from the frame")
    var offset = RadiusPacket.headerLength
    for span in packet.attributes {
        require(span.type != 0 && span.offset == offset + 2 && span.count >= 0, "attribute span at \(offset) misplaced")
        offset = span.offset + span.count
    }
    require(offset == length, "attributes end at \(offset), the frame at \(length)")
    require(packet.attributes.count <= RadiusPacket.defaultAttributeLimit, "more attributes than the limit")
}

private func readLikeTheServer(_ packet: RadiusPacket) {
    for listener in [Listener.authentication, .accounting] { _ = try? packet.checkArrival(on: listener) }
    for policy in [RequestPolicy(), RequestPolicy(requireMessageAuthenticator: false)] {
        _ = try? packet.verifyRequest(secret: secret, policy: policy)
    }
    _ = try? packet.presentedCredential(secret: secret)
    if let digest = try? SIPDigest(packet) { _ = digest.matches(password: secret) }
    for vendor: UInt32 in [9, 0, 311] {
        for type: UInt8 in [1, 23, 101, 102] { _ = packet.vendorValues(vendor: vendor, type: type) }
    }
    for span in packet.attributes { _ = packet.integer(span.type) }
}

/// Every attribute but Message-Authenticator, written again as an Accounting-Request, must
/// decode to the same list and pass the Request Authenticator check with the same secret.
private func checkReencoding(_ packet: RadiusPacket) {
    let kept = packet.attributes.filter { $0.type != AttributeType.messageAuthenticator && $0.count > 0 }
    let outgoing = kept.map { OutgoingAttribute($0.type, Array(packet.value($0))) }
    let written: [UInt8]
    do {
        written = try PacketEncoder.accountingStyleRequest(.accountingRequest, identifier: packet.identifier,
                                                           attributes: outgoing, secret: secret,
                                                           withMessageAuthenticator: true)
    } catch {
        require(RadiusPacket.headerLength + 18 + kept.reduce(0) { $0 + 2 + $1.count } > RadiusPacket.maximumLength,
                "encoder refused a packet that fits: \(error)")
        return
    }
    do {
        let decoded = try RadiusPacket(decoding: written, attributeLimit: Int.max)
        try decoded.verifyRequest(secret: secret, policy: RequestPolicy())
        let again = decoded.attributes.dropFirst()
        require(again.count == kept.count, "re-encoding changed the attribute count")
        for (left, right) in zip(again, kept) {
            require(left.type == right.type && decoded.value(left).elementsEqual(packet.value(right)),
                    "re-encoding changed attribute \(right.type)")
        }
    } catch {
        require(false, "re-encoded request does not decode or verify: \(error)")
    }
}

/// An answer that echoes the request's Proxy-State, as the server sends it, must verify as a
/// response to that request.
private func checkResponse(to packet: RadiusPacket) {
    let proxyStates = packet.all(AttributeType.proxyState).filter { !$0.isEmpty }
        .map { OutgoingAttribute(AttributeType.proxyState, Array($0)) }
    guard let answer = try? PacketEncoder.response(.accessAccept, to: packet, attributes: proxyStates,
                                                   secret: secret, withMessageAuthenticator: true)
    else { return }
    do {
        let decoded = try RadiusPacket(decoding: answer, attributeLimit: Int.max)
        try decoded.verifyResponse(to: packet.authenticator, secret: secret)
        require(decoded.identifier == packet.identifier, "answer has another Identifier")
        require(decoded.all(AttributeType.proxyState).elementsEqual(packet.all(AttributeType.proxyState).filter { !$0.isEmpty },
                                                                    by: { $0.elementsEqual($1) }),
                "Proxy-State not echoed in order")
    } catch {
        require(false, "answer does not decode or verify: \(error)")
    }
}
