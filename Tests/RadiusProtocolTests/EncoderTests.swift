import RadiusProtocol
import Testing

@Suite struct EncoderTests {
    let secret = Array("testing123".utf8)

    func request(_ attributes: [OutgoingAttribute]) throws -> RadiusPacket {
        try RadiusPacket(decoding: PacketEncoder.accessRequest(identifier: 42, authenticator: Array(1...16),
                                                               attributes: attributes, password: Array("1234".utf8),
                                                               secret: secret))
    }

    @Test func anAccessRequestWeEncodeVerifiesAndRevealsItsPassword() throws {
        let packet = try request([OutgoingAttribute(AttributeType.userName, text: "000012345678")])
        try packet.verifyRequest(secret: secret, policy: RequestPolicy())
        #expect(try packet.presentedCredential(secret: secret) == .password(Array("1234".utf8)))
        #expect(packet.attributes.first?.type == AttributeType.messageAuthenticator)
    }

    @Test func aReplyLargerThan4096OctetsIsRefused() throws {
        let packet = try request([])
        let states = Array(repeating: OutgoingAttribute(AttributeType.proxyState, Array(repeating: 7, count: 253)), count: 17)
        #expect(throws: EncodeError.packetTooLong(20 + 18 + 17 * 255)) {
            try PacketEncoder.response(.accessAccept, to: packet, attributes: states, secret: secret, withMessageAuthenticator: true)
        }
    }

    @Test func emptyAndOverlongValuesAreRefused() throws {
        let packet = try request([])
        #expect(throws: EncodeError.emptyValue(type: AttributeType.replyMessage)) {
            try PacketEncoder.response(.accessReject, to: packet, attributes: [OutgoingAttribute(AttributeType.replyMessage, [])],
                                       secret: secret, withMessageAuthenticator: true)
        }
        #expect(throws: EncodeError.valueTooLong(type: AttributeType.replyMessage, count: 254)) {
            try PacketEncoder.response(.accessReject, to: packet,
                                       attributes: [OutgoingAttribute(AttributeType.replyMessage, Array(repeating: 65, count: 254))],
                                       secret: secret, withMessageAuthenticator: true)
        }
    }

    @Test func aDisconnectRequestAndItsACKVerify() throws {
        let sent = try PacketEncoder.accountingStyleRequest(
            .disconnectRequest, identifier: 3,
            attributes: [OutgoingAttribute(AttributeType.acctSessionId, text: "call-1")], secret: secret, withMessageAuthenticator: true)
        let request = try RadiusPacket(decoding: sent)
        try request.verifyRequest(secret: secret, policy: RequestPolicy())
        let ack = try RadiusPacket(decoding: PacketEncoder.response(.disconnectACK, to: request, attributes: [], secret: secret,
                                                                    withMessageAuthenticator: true))
        try ack.verifyResponse(to: request.authenticator, secret: secret)
        #expect(throws: AuthenticityError.responseAuthenticatorMismatch) {
            try ack.verifyResponse(to: request.authenticator, secret: Array("other".utf8))
        }
    }

    @Test func userPasswordRoundTripsAtEveryLength() throws {
        for length in 1...128 {
            let password = (0..<length).map { UInt8(33 + $0 % 90) }
            let hidden = UserPassword.hide(password, secret: secret, authenticator: Array(1...16)[...])
            #expect(hidden.count == (length + 15) / 16 * 16)
            #expect(try UserPassword.reveal(hidden[...], secret: secret, authenticator: Array(1...16)[...]) == password)
        }
    }
}
