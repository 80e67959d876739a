public import RatingEngine

extension LedgerBook {
    func checkCurrency(_ account: Account, _ amount: Money) throws(LedgerError) {
        guard account.currency == amount.currency else {
            throw .currencyMismatch(expected: account.currency.code, got: amount.currency.code)
        }
    }

    public mutating func recharge(pin: String, amount: Money, method: PaymentMethod, reference: String,
                                  context: ChangeContext) throws(LedgerError) -> Movement {
        var account = try account(pin: pin)
        try checkCurrency(account, amount)
        guard amount.micros > 0 else { throw .invalid("a recharge must be positive, got \(amount)") }
        guard account.status != .dropped else { throw .refused(pin: pin, .dropped) }
        let old = account.balance
        let movement = try move(&account, amount.micros, .recharge, method: method, reference: reference, context: context)
        account.lastRechargeAt = context.at
        update(account)
        audit(context, "account", pin, "recharge \(method.rawValue) \(reference)", old: Money.format(micros: old, minimumDecimals: 2),
              new: Money.format(micros: account.balance, minimumDecimals: 2))
        return movement
    }

    public mutating func touchRecharge(pin: String, context: ChangeContext) throws(LedgerError) -> Account {
        var account = try account(pin: pin)
        let old = account.lastRechargeAt.map(String.init) ?? ""
        account.lastRechargeAt = context.at
        update(account)
        audit(context, "account", pin, "touch-recharge", old: old, new: String(context.at))
        return account
    }

    public mutating func adjust(pin: String, amount: Money, reason: String, context: ChangeContext) throws(LedgerError) -> Movement {
        var account = try account(pin: pin)
        try checkCurrency(account, amount)
        guard amount.micros != 0 else { throw .invalid("an adjustment of zero changes nothing") }
        guard !reason.isEmpty else { throw .invalid("an adjustment needs a reason") }
        let old = account.balance
        let movement = try move(&account, amount.micros, .adjustment, reference: reason, context: context)
        update(account)
        audit(context, "account", pin, "adjust: \(reason)", old: Money.format(micros: old, minimumDecimals: 2),
              new: Money.format(micros: account.balance, minimumDecimals: 2))
        return movement
    }

    public mutating func redeem(voucher code: String, pin: String, context: ChangeContext) throws(LedgerError) -> Movement {
        guard var voucher = vouchers[code] else { throw .unknownVoucher(code) }
        var account = try account(pin: pin)
        guard voucher.status == .enabled, voucher.redeemedBy == nil else { throw .voucherUsed(code) }
        if let expiry = voucher.expiresAt, expiry <= context.at { throw .invalid("voucher \(code) has expired") }
        try checkCurrency(account, voucher.value)
        guard account.status != .dropped else { throw .refused(pin: pin, .dropped) }
        let movement = try move(&account, voucher.value.micros, .voucher, method: .voucher, reference: code, context: context)
        account.lastRechargeAt = context.at
        update(account)
        voucher.redeemedBy = account.id
        voucher.redeemedAt = context.at
        vouchers[code] = voucher
        records.append(.voucher(voucher))
        audit(context, "voucher", code, "redeem", old: "", new: pin)
        return movement
    }

    // MARK: Reservations

    public mutating func reserve(_ request: ReservationRequest) throws(LedgerError) -> ReserveOutcome {
        let vacancy: ReservationTable.Vacancy
        switch try reservations.locate(request.key) {
        case .row(let existing): return .reserved(existing)
        case .vacant(let place): vacancy = place
        }
        guard request.amount >= 0 else { throw .invalid("a reservation must not be negative") }
        guard !request.key.isEmpty else { throw .invalid("a reservation needs a key") }
        guard let id = accountID(of: request) else { return .refused(.unknownAccount) }
        let account = accounts[accountIndex(id)]
        if let refusal = account.refusal(at: request.at) { return .refused(refusal) }
        if account.status == .inactive { return .refused(.inactive) }  // first-use: authorise activates it
        let current = heldFor(id)
        guard current.count < account.maxCalls else { return .refused(.tooManyCalls(limit: account.maxCalls)) }
        let available = account.balance + account.creditLimit - current.micros
        guard available >= request.amount else { return .refused(.insufficientFunds(available: available)) }
        let reservation = Reservation(id: nextReservationID, key: request.key, accountID: id, amount: request.amount, nas: request.nas,
                                      number: request.number, destination: request.destination, openedAt: request.at,
                                      expiresAt: request.expiresAt, state: .open, finalCost: nil, closedAt: nil,
                                      details: "", movementID: nil)
        nextReservationID += 1
        reservations.add(reservation, at: vacancy)
        expiries.insert(Expiry(at: reservation.expiresAt, key: reservation.key))
        hold(id, count: 1, micros: request.amount)
        records.append(.reservation(reservation))
        return .reserved(reservation)
    }

    private func accountID(of request: ReservationRequest) -> Int64? {
        if let hinted = request.accountID, case (let offset, false) = hinted.subtractingReportingOverflow(firstAccountID),
           accounts.indices.contains(Int(offset)), accounts[Int(offset)].pin == request.pin {
            return hinted
        }
        return id(ofPin: request.pin)
    }

    /// Debits `cost` and closes the reservation. A commit after a release or expiry still debits
    /// (the call happened: a late Stop), as an overrun; a repeated commit returns the first.
    public mutating func commit(key: String, cost: Int64, details: String, at: Int64) throws(LedgerError) -> Reservation {
        guard var reservation = try reservations.find(key) else { throw .unknownReservation(key) }
        if reservation.state == .committed { return reservation }
        guard cost >= 0 else { throw .invalid("a call cost must not be negative") }
        var account = accounts[accountIndex(reservation.accountID)]
        let context = ChangeContext(actor: reservation.nas.isEmpty ? "ledger" : "nas:\(reservation.nas)", at: at)
        let movement = try move(&account, -cost, .call, reference: key, context: context)
        update(account)
        if reservation.state == .open {
            hold(account.id, count: -1, micros: -reservation.amount)
        } else {
            reservation.amount = 0
        }
        reservation.state = .committed
        reservation.finalCost = cost
        reservation.closedAt = at
        reservation.details = details
        reservation.movementID = movement.id
        if reservation.isOverrun { overruns += 1 }
        reservations.save(reservation)
        records.append(.reservation(reservation))
        return reservation
    }

    public mutating func release(key: String, at: Int64) throws(LedgerError) -> Reservation {
        try close(key: key, as: .released, at: at)
    }

    mutating func close(key: String, as state: ReservationState, at: Int64) throws(LedgerError) -> Reservation {
        guard var reservation = try reservations.find(key) else { throw .unknownReservation(key) }
        guard reservation.state == .open else { return reservation }
        hold(reservation.accountID, count: -1, micros: -reservation.amount)
        reservation.state = state
        reservation.closedAt = at
        reservations.save(reservation)
        records.append(.reservation(reservation))
        return reservation
    }

    /// Holds `amount` more for an open reservation, if the account can afford it, and moves its
    /// expiry to `expiresAt` when that is later.
    public mutating func extend(key: String, by amount: Int64, expiresAt: Int64, at: Int64) throws(LedgerError) -> ReserveOutcome {
        guard var reservation = try reservations.find(key) else { throw .unknownReservation(key) }
        guard reservation.state == .open else { throw .reservationClosed(key: key, state: reservation.state) }
        guard amount >= 0 else { throw .invalid("an extension must not be negative") }
        let account = accounts[accountIndex(reservation.accountID)]
        let available = account.balance + account.creditLimit - heldFor(account.id).micros
        guard available >= amount else { return .refused(.insufficientFunds(available: available)) }
        reservation.amount += amount
        if expiresAt > reservation.expiresAt {
            reservation.expiresAt = expiresAt
            expiries.insert(Expiry(at: expiresAt, key: key))
        }
        hold(account.id, count: 0, micros: amount)
        reservations.save(reservation)
        records.append(.reservation(reservation))
        return .reserved(reservation)
    }

    public var openReservations: [Reservation] { reservations.values.filter { $0.state == .open } }

    public mutating func releaseExpired(now: Int64) -> Int {
        var released = 0
        for next in expiries.removeDue(now: now) {
            guard let reservation = reservations[open: next.key], reservation.state == .open, reservation.expiresAt == next.at else { continue }
            _ = try? close(key: next.key, as: .expired, at: now)
            released += 1
        }
        // Each sweep also settles a little of what closed an hour ago, and forgets a little of
        // what closed beyond the memory, as a restart would (the store loads no older closed
        // reservation): without it a server's memory grew by every call it ever answered.
        _ = reservations.settle(closedBefore: now - Self.wholeReservationMemorySeconds, chunkLimit: Self.chunksPerSweepPass)
        _ = reservations.forget(closedBefore: now - Self.closedReservationMemorySeconds, chunkLimit: Self.chunksPerSweepPass)
        return released
    }

    /// How long a closed reservation is remembered, so that a late or repeated Stop finds it
    /// and is not billed again.
    public static let closedReservationMemorySeconds: Int64 = 7 * 86_400
    /// How long a closed reservation stays whole in memory before it is settled: retransmitted
    /// and repeated Stops come within seconds, and these are answered without reading the disk.
    public static let wholeReservationMemorySeconds: Int64 = 3_600
    /// How much each of a sweep's two passes (settling, forgetting) may take on: 32 chunks of 1,024
    /// rows, a few milliseconds under the book's lock, and room for thousands of calls a second,
    /// sustained.
    static let chunksPerSweepPass = 32

    /// Only open reservations can be released, and the expiry queue holds each of them (with a
    /// few stale keys): under the lock every request takes, that is the calls in progress rather
    /// than the week of closed ones the table also remembers.
    public mutating func releaseAll(nas: String, openedBefore before: Int64, at: Int64) -> Int {
        var due: [Reservation] = []
        var seen: Set<String> = []
        for key in expiries.keys where seen.insert(key).inserted {
            guard let reservation = reservations[open: key], reservation.state == .open, reservation.nas == nas,
                  reservation.openedAt < before else { continue }
            due.append(reservation)
        }
        // In the order they were made, as the journal had them before.
        for reservation in due.sorted(by: { $0.id < $1.id }) { _ = try? close(key: reservation.key, as: .released, at: at) }
        return due.count
    }
}
