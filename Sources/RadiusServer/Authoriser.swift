import Ledger
import NIOCore
import RadiusProtocol
import RatingEngine

/// The prepaid answer to an Access-Request: who is calling (PIN and password, CHAP, SIP digest,
/// a bound caller ID or a trusted Call-Check), whether the account may call, and, when a
/// destination is given, how long it may talk, with that much of the balance reserved.
struct Authoriser: Sendable {
    enum Outcome: Sendable {
        case accept([OutgoingAttribute], grantSeconds: Int64?)
        case reject(Denial)
    }

    let store: any LedgerStore
    let settings: PrepaidSettings
    let throttle: FailureThrottle
    let liveCalls: LiveCalls

    static let callCheck: UInt32 = 10
    static let classPrefix = "ratel:"
    static let sipAVP: UInt8 = 225

    func authorise(_ packet: RadiusPacket, client: NASClient, source: SocketAddress, now: Int64) async throws(LedgerError) -> Outcome {
        let fields = RequestFields(packet: packet)
        let profile = client.profile
        let presented: PresentedCredential
        let digest: SIPDigest?
        do {
            presented = try packet.presentedCredential(secret: client.secret)
            digest = presented == .none ? try SIPDigest(packet) : nil
        } catch let error as CredentialError {
            return .reject(.badCredential(error.description))
        } catch {
            return .reject(.badCredential(String(describing: error)))
        }
        let userName = fields.userName.map(client.accountName)

        var pin: String
        var needsSecret = true
        if presented != .none || digest != nil {
            guard let userName, !userName.isEmpty else { return .reject(.badCredential("no User-Name")) }
            pin = userName
        } else if fields.serviceType == Self.callCheck || (fields.calledNumber != nil && userName?.isEmpty == false
                                                           && profile.ciscoVSAs) {
            guard profile.allowCallCheck else { return .reject(.callCheckNotAllowed) }
            guard let userName, !userName.isEmpty else { return .reject(.badCredential("no User-Name")) }
            pin = userName
            needsSecret = false
        } else if profile.allowCallerID, let caller = fields.callingNumber, let bound = try await boundAccount(caller, profile) {
            pin = bound.pin
            needsSecret = false
        } else {
            return .reject(.noCredential)
        }

        let subjects = FailureThrottle.Subjects(pin: pin, caller: fields.callingNumber)
        if throttle.isLocked(subjects, now: now) { return .reject(.throttled) }
        let context = ChangeContext(actor: "nas:\(client.name)", address: "radius", at: now)
        let authorised: Result<Account, Refusal>
        if needsSecret {
            // PAP compares with the string's own octets; an array of them was an allocation a request.
            let outcome: Result<Account, Refusal>?
            do {
                outcome = try await store.authorise(pin: pin, context: context) { secret in
                    switch presented {
                    case .password(let given): constantTimeEqual(given, secret.utf8)
                    case .chap(let response, let challenge): CHAP.matches(chapPassword: response, challenge: challenge, password: Array(secret.utf8))
                    case .none: digest?.matches(password: Array(secret.utf8)) ?? false
                    }
                }
            } catch .unknownPin {
                throttle.fail(subjects, now: now)
                return .reject(.account(.unknownAccount))
            }
            guard let outcome else {
                throttle.fail(subjects, now: now)
                return .reject(.wrongPassword)
            }
            authorised = outcome
        } else {
            authorised = try await store.authorise(pin: pin, context: context)
        }
        let account: Account
        switch authorised {
        case .success(let authorised): account = authorised
        case .failure(let refusal):
            if refusal == .unknownAccount { throttle.fail(subjects, now: now) }
            return .reject(.account(refusal))
        }
        throttle.succeed(subjects)
        pin = account.pin

        guard let called = fields.calledNumber else { return .accept(balanceAnswer(account, profile), grantSeconds: nil) }
        return try await grant(account, called: called, fields: fields, client: client, source: source, now: now)
    }

    /// Stage two (or a single-stage request): rate the destination and reserve the longest affordable call.
    private func grant(_ account: Account, called: String, fields: RequestFields, client: NASClient,
                       source: SocketAddress, now: Int64) async throws(LedgerError) -> Outcome {
        guard let digits = client.profile.numbers.normalise(called), let number = try? DialledNumber(digits) else {
            return .reject(.invalidNumber)
        }
        guard let plan = settings.plans.plan(named: account.plan), plan.currency == account.currency else {
            return .reject(.serviceUnavailable)
        }
        // Accounting carries Acct-Session-Id (or the Cisco conference id); otherwise only the Class brings the key back.
        let key = client.sessionKey(fields.acctSessionID ?? fields.ciscoConfID ?? "auth-" + Self.randomToken())
        var budget = account.balance + account.creditLimit
        var ledgerKey = key
        var reuses = 0
        for _ in 0..<(4 + SessionKeyChain.longest) {
            let grant: Int64
            let charge: TariffPlan.Charge
            do {
                let longest = try settings.longestGrant(plan, number, start: now, budget: budget)
                guard longest > 0 else { return .reject(.notEvenFirstIncrement(available: budget)) }
                grant = longest
                charge = try plan.charge(number, start: now, durationSeconds: grant)
            } catch .noRate {
                return .reject(.noRate)
            } catch .invalidNumber {
                return .reject(.invalidNumber)
            } catch {
                return .reject(.serviceUnavailable)
            }
            let deck = plan.decks[charge.start.deck]
            let request = ReservationRequest(key: ledgerKey, pin: account.pin, amount: charge.chargedMicros,
                                             expiresAt: now + grant + settings.reservationGraceSeconds,
                                             nas: client.name, number: digits, destination: deck.destination(at: charge.start.row),
                                             at: now, accountID: account.id)
            switch try await store.reserve(request) {
            case .reserved(let finished) where finished.state != .open:
                // A new call reusing the session id; past the chain accounting follows, a call
                // would be filed where its Stop cannot find it.
                reuses += 1
                guard reuses <= SessionKeyChain.longest else { return .reject(.serviceUnavailable) }
                ledgerKey = SessionKeyChain.successor(of: key, after: finished)
            case .reserved(let reservation):
                liveCalls.opened(reservation, handle: SessionHandle(request: fields.packet, from: source, client: client))
                // A retried request finds its own reservation: answer with what that one holds.
                let held = reservation.amount == charge.chargedMicros ? grant
                    : (try? plan.maxDuration(number, start: reservation.openedAt, budgetMicros: reservation.amount)) ?? 0
                return .accept(grantAnswer(account, seconds: held, key: reservation.key, profile: client.profile), grantSeconds: held)
            case .refused(.insufficientFunds(let available)) where available < budget:
                budget = available
            case .refused(let refusal):
                return .reject(.account(refusal))
            }
        }
        return .reject(.notEvenFirstIncrement(available: budget))
    }

    private func grantAnswer(_ account: Account, seconds: Int64, key: String, profile: NASProfile) -> [OutgoingAttribute] {
        var attributes: [OutgoingAttribute] = []
        attributes.reserveCapacity(4)
        let clamped = UInt32(clamping: seconds)
        if profile.grantInSessionTimeout { attributes.append(OutgoingAttribute(AttributeType.sessionTimeout, integer: clamped)) }
        if profile.ciscoVSAs {
            attributes.append(CiscoVSA.attribute(CiscoVSA.creditTime, "h323-credit-time", String(clamped)))
            attributes.append(CiscoVSA.attribute(CiscoVSA.returnCode, "h323-return-code", "0"))
        }
        if let name = profile.sipAVPGrantName { attributes.append(OutgoingAttribute(Self.sipAVP, text: "\(name)#\(clamped)")) }
        // Built in one buffer: joining the strings first allocated a string and then the array.
        var classValue: [UInt8] = []
        classValue.reserveCapacity(Self.classPrefix.utf8.count + key.utf8.count)
        classValue += Self.classPrefix.utf8
        classValue += key.utf8
        if classValue.count <= 253 { attributes.append(OutgoingAttribute(AttributeType.class, classValue)) }
        return attributes
    }

    /// Stage one of a two-stage gateway: the caller is known, the destination is not yet.
    private func balanceAnswer(_ account: Account, _ profile: NASProfile) -> [OutgoingAttribute] {
        let balance = Money.format(micros: account.balance, minimumDecimals: 2)
        guard profile.ciscoVSAs else {
            return [OutgoingAttribute(AttributeType.replyMessage, text: "Balance \(balance) \(account.currency.code)")]
        }
        return [
            CiscoVSA.attribute(CiscoVSA.returnCode, "h323-return-code", "0"),
            CiscoVSA.attribute(CiscoVSA.creditAmount, "h323-credit-amount", balance),
            CiscoVSA.attribute(CiscoVSA.currency, "h323-currency", account.currency.code),
            CiscoVSA.attribute(CiscoVSA.billingModel, "h323-billing-model", account.kind == .prepaid ? "1" : "0"),
        ]
    }

    private func boundAccount(_ caller: String, _ profile: NASProfile) async throws(LedgerError) -> Account? {
        if let account = try await store.account(ani: caller) { return account }
        guard let digits = profile.numbers.normalise(caller), digits != caller else { return nil }
        return try await store.account(ani: digits)
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next(), radix: 36) + String(generator.next(), radix: 36)
    }
}
