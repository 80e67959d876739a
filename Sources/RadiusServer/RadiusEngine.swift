public import Ledger
public import Logging
public import NIOCore
public import RadiusProtocol

/// One request in, at most one reply out: client lookup, framing, authenticity, the duplicate
/// cache, then the prepaid policy or accounting. Pure of sockets, so tests and the listeners
/// share it; every packet that gets no answer is counted by why.
public final class RadiusEngine: Sendable {
    public struct Settings: Sendable {
        public var attributeLimit: Int
        /// RFC 5080 suggests 5-30 s.
        public var duplicateLifetimeSeconds: Int

        public init(attributeLimit: Int = RadiusPacket.defaultAttributeLimit, duplicateLifetimeSeconds: Int = 10) {
            self.attributeLimit = attributeLimit
            self.duplicateLifetimeSeconds = duplicateLifetimeSeconds
        }
    }

    public let clients: ClientTable
    public let liveCalls: LiveCalls
    let store: any LedgerStore
    let settings: Settings
    public let metrics: ServerMetrics
    let logger: Logger
    private let duplicates: DuplicateCache
    private let authoriser: Authoriser
    private let recorder: AccountingRecorder
    private let clock: @Sendable () -> Int64

    public init(clients: ClientTable, store: any LedgerStore, prepaid: PrepaidSettings, settings: Settings = Settings(),
                metrics: ServerMetrics = ServerMetrics(), logger: Logger, liveCalls: LiveCalls = LiveCalls(),
                clock: @escaping @Sendable () -> Int64) {
        self.clients = clients
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        self.liveCalls = liveCalls
        self.clock = clock
        duplicates = DuplicateCache(lifetimeSeconds: settings.duplicateLifetimeSeconds)
        authoriser = Authoriser(store: store, settings: prepaid, throttle: FailureThrottle(prepaid.throttle),
                                liveCalls: liveCalls)
        recorder = AccountingRecorder(store: store, settings: prepaid, liveCalls: liveCalls)
    }

    /// Loads the calls that were in progress when the server last stopped.
    public func recoverLiveCalls() async throws(LedgerError) {
        for reservation in try await store.openReservations() { liveCalls.opened(reservation) }
    }

    /// Expires reservations whose grant and grace have run out; call it every few seconds.
    public func sweep() async {
        let now = clock()
        do {
            let expired = try await store.releaseExpired(now: now)
            if expired > 0 { logger.info("expired reservations with no Stop", metadata: ["count": "\(expired)"]) }
            liveCalls.expired(now: now)
            metrics.gauges(openReservations: liveCalls.count, liveCalls: liveCalls.answeredCount,
                           duplicateCacheItems: duplicates.queuedCount)
        } catch {
            logger.error("could not expire reservations", metadata: ["error": "\(error)"])
        }
    }

    /// A request decided but not yet answered: its reply may go out only once `durability`
    /// says the ledger holds what was decided for it (`settle`); a resent reply has none.
    public struct Decision: Sendable {
        let reply: [UInt8]?
        let duplicateKey: DuplicateCache.Key?
        let authenticator: DuplicateCache.Authenticator
        let started: NIODeadline
        let listener: Listener
        let nas: String
        public let durability: DeferredDurability?
    }

    /// Decides, answers once the decision is durable, and returns the reply to send (if any).
    public func handle(_ datagram: some Collection<UInt8>, from source: SocketAddress, on listener: Listener) async -> [UInt8]? {
        guard let decision = await decide(datagram, from: source, on: listener) else { return nil }
        do {
            try await decision.durability?.wait()
            return settle(decision, failure: nil)
        } catch {
            return settle(decision, failure: error)
        }
    }

    /// Everything up to the reply, without waiting for the ledger's disk: nil when the packet is
    /// dropped. Operations of a store that decides in memory do not suspend here, so a listener
    /// can decide a whole read of datagrams in one task. With `sharedDeferral`, the caller runs
    /// this under `DeferredDurability.$current` and waits for the ledger itself (the decision's
    /// `durability` is nil): one deferral for a read of datagrams instead of one each.
    public func decide(_ datagram: some Collection<UInt8>, from source: SocketAddress, on listener: Listener,
                       sharedDeferral: Bool = false) async -> Decision? {
        let started = NIODeadline.now()
        guard let host = SourceHost(source), let client = clients.client(for: host) else {
            metrics.drop(listener.rawValue, nas: "unknown", reason: "unknown_client")
            logger.debug("packet from an unknown client dropped", metadata: ["source": "\(source)"])
            return nil
        }
        let packet: RadiusPacket
        do {
            packet = try RadiusPacket(decoding: datagram, attributeLimit: settings.attributeLimit)
            try packet.checkArrival(on: listener)
            try packet.verifyRequest(secret: client.sharedSecret, policy: client.requestPolicy)
        } catch let error as FrameError {
            return dropped(listener, client, error.reason, "\(error)")
        } catch let error as AuthenticityError {
            return dropped(listener, client, error.reason, "\(error)")
        } catch {
            return dropped(listener, client, "invalid", "\(error)")
        }
        let key = DuplicateCache.Key(listener: listener, host: host, port: source.port ?? 0, identifier: packet.identifier)
        let authenticator = DuplicateCache.Authenticator(packet.authenticator)
        switch duplicates.arrive(key, authenticator: authenticator, now: started.uptimeNanoseconds) {
        case .inProgress:
            return dropped(listener, client, "duplicate_in_progress", nil)
        case .resend(let reply):
            metrics.request(listener.rawValue, nas: client.name, outcome: "duplicate_resent")
            return Decision(reply: reply, duplicateKey: nil, authenticator: authenticator, started: started,
                            listener: listener, nas: client.name, durability: nil)
        case .new:
            break
        }
        if sharedDeferral {
            return Decision(reply: await answer(packet, client: client, source: source, listener: listener), duplicateKey: key,
                            authenticator: authenticator, started: started, listener: listener, nas: client.name, durability: nil)
        }
        let durability = DeferredDurability()
        let reply = await DeferredDurability.$current.withValue(durability) {
            await answer(packet, client: client, source: source, listener: listener)
        }
        return Decision(reply: reply, duplicateKey: key, authenticator: authenticator, started: started,
                        listener: listener, nas: client.name, durability: durability)
    }

    /// Completes a decision once its durability is known: the reply is remembered for
    /// retransmissions and returned, or, if the ledger could not write, dropped (the NAS retries).
    public func settle(_ decision: Decision, failure: LedgerError?) -> [UInt8]? {
        guard let key = decision.duplicateKey else { return decision.reply }
        var reply = decision.reply
        if let failure {
            logger.error("ledger write failed; request left unanswered", metadata: ["nas": "\(decision.nas)", "error": "\(failure)"])
            metrics.drop(decision.listener.rawValue, nas: decision.nas, reason: "ledger_failure")
            reply = nil
        }
        let now = NIODeadline.now()
        duplicates.answer(key, authenticator: decision.authenticator, reply: reply, now: now.uptimeNanoseconds)
        metrics.observe(nanoseconds: (now - decision.started).nanoseconds)
        return reply
    }

    private func answer(_ packet: RadiusPacket, client: NASClient, source: SocketAddress, listener: Listener) async -> [UInt8]? {
        let now = clock()
        let proxyStates = packet.all(AttributeType.proxyState).map { OutgoingAttribute(AttributeType.proxyState, Array($0)) }
        do {
            switch packet.code {
            case .statusServer:
                // Status-Server says whether this server can answer (RFC 5997): a proxy or NAS
                // that hears it sends calls here, and with a failed ledger every one would go
                // unanswered. Silence lets it fail over.
                if store.refusesEverything { return dropped(listener, client, "ledger_failure", nil) }
                metrics.request(listener.rawValue, nas: client.name, outcome: "status_server")
                let code: RadiusCode = listener == .authentication ? .accessAccept : .accountingResponse
                return try encode(code, packet, client, proxyStates, messageAuthenticator: true, listener)
            case .accessRequest:
                switch try await authoriser.authorise(packet, client: client, source: source, now: now) {
                case .accept(let attributes, let grant):
                    metrics.request(listener.rawValue, nas: client.name, outcome: grant == nil ? "accept_balance" : "accept")
                    do {
                        // Most requests carry no Proxy-State, and joining an empty list still copied the attributes.
                        return try encode(.accessAccept, packet, client, proxyStates.isEmpty ? attributes : attributes + proxyStates,
                                          messageAuthenticator: true, listener)
                    } catch {
                        // Fail closed: an Accept that cannot be sent whole is not sent at all.
                        logger.error("Access-Accept does not fit; rejecting", metadata: ["nas": "\(client.name)", "error": "\(error)"])
                        return try encode(.accessReject, packet, client, proxyStates, messageAuthenticator: true, listener)
                    }
                case .reject(let denial):
                    metrics.request(listener.rawValue, nas: client.name, outcome: "reject_" + denial.reason)
                    logger.info("Access-Reject", metadata: ["nas": "\(client.name)", "reason": "\(denial.reason)",
                                                            "user": "\(Self.masked(RequestFields(packet: packet).userName))"])
                    return try encode(.accessReject, packet, client, denial.attributes(for: client.profile) + proxyStates,
                                      messageAuthenticator: true, listener)
                }
            case .accountingRequest:
                let outcome = try await recorder.record(packet, client: client, source: source, now: now)
                metrics.request(listener.rawValue, nas: client.name, outcome: outcome)
                return try encode(.accountingResponse, packet, client, proxyStates, messageAuthenticator: false, listener)
            default:
                return dropped(listener, client, "unexpected_code", nil)
            }
        } catch let error as LedgerError {
            // Nothing durable, so no answer: the NAS retries or fails over (RFC 2866 section 2).
            logger.error("ledger operation failed; request left unanswered", metadata: ["nas": "\(client.name)", "error": "\(error)"])
            return dropped(listener, client, "ledger_failure", nil)
        } catch {
            logger.error("reply could not be encoded", metadata: ["nas": "\(client.name)", "error": "\(error)"])
            return dropped(listener, client, "encode_failure", nil)
        }
    }

    private func encode(_ code: RadiusCode, _ request: RadiusPacket, _ client: NASClient, _ attributes: [OutgoingAttribute],
                        messageAuthenticator: Bool, _ listener: Listener) throws(EncodeError) -> [UInt8] {
        let bytes = try PacketEncoder.response(code, to: request, attributes: attributes, secret: client.sharedSecret,
                                               withMessageAuthenticator: messageAuthenticator)
        metrics.reply(listener.rawValue, nas: client.name, code: code.name)
        return bytes
    }

    /// Counts (and at debug level logs) a packet that gets no answer.
    private func dropped<Nothing>(_ listener: Listener, _ client: NASClient, _ reason: String, _ detail: String?) -> Nothing? {
        metrics.drop(listener.rawValue, nas: client.name, reason: reason)
        if let detail { logger.debug("packet dropped", metadata: ["nas": "\(client.name)", "reason": "\(reason)", "detail": "\(detail)"]) }
        return nil
    }

    /// Logs show enough of a user name to tell calls apart, never a whole PIN.
    public static func masked(_ name: String?) -> String {
        guard let name, !name.isEmpty else { return "-" }
        let keep = min(4, name.count / 3)
        return String(repeating: "*", count: name.count - keep) + name.suffix(keep)
    }
}
