public import Foundation
import RatingEngine

/// A card ready to be issued: its PIN, its clear password (for the printable export only) and
/// the password sealed for storage.
public struct IssuedCard: Sendable {
    public var pin: String
    public var password: String
}

extension LedgerBook {
    /// Records a batch and its accounts (or vouchers). The cards' PINs must be new: see `isIssued`.
    /// `sealed` seals the cards' passwords, in the same order.
    public mutating func issue(_ spec: BatchSpec, cards: [IssuedCard], sealed: SealingJob,
                               context: ChangeContext) throws(LedgerError) -> Batch {
        try spec.validate()
        let batch = Batch(id: nextBatchID, createdAt: context.at, createdBy: context.actor, count: cards.count,
                          faceValue: spec.faceValue, plan: spec.plan, vouchers: spec.vouchers, status: .enabled)
        let terms = BatchTerms(activation: spec.activation, validity: spec.validity, pinLength: spec.pinLength, series: spec.series)
        batches.append(batch)
        batchTerms.append(terms)
        records.append(.batch(batch, terms))
        audit(context, "batch", String(batch.id), "generate", old: "",
              new: "\(cards.count) \(spec.vouchers ? "vouchers" : "accounts") of \(spec.faceValue) plan \(spec.plan)")
        let expiry = spec.expiryAtIssue(context.at)
        if spec.vouchers {
            for card in cards {
                precondition(!isIssued(card.pin), "cards are checked against issued codes first")
                let voucher = Voucher(code: card.pin, batchID: batch.id, value: spec.faceValue, status: .enabled,
                                      redeemedBy: nil, redeemedAt: nil, expiresAt: expiry)
                vouchers[card.pin] = voucher
                records.append(.voucher(voucher))
            }
            return batch
        }
        accounts.reserveCapacity(accounts.count + cards.count)
        pins.reserveCapacity(pins.count + cards.count)
        var issued = IssuedRows(capacity: cards.count, secrets: sealed)
        let immediate = spec.activation == .immediate
        let reference = "batch \(batch.id)"
        for card in cards {
            let account = Account(
                id: nextAccountID, pin: card.pin, kind: spec.kind, currency: spec.faceValue.currency,
                balance: spec.faceValue.micros, creditLimit: spec.creditLimit, plan: spec.plan,
                status: immediate ? .active : .inactive, maxCalls: spec.maxCalls, batchID: batch.id,
                activation: spec.activation, validity: spec.validity, createdAt: context.at,
                activatedAt: immediate ? context.at : nil, expiresAt: expiry, lastRechargeAt: nil, anis: [])
            if spec.faceValue.micros != 0 {
                issued.movements.append(newMovement(account.id, spec.faceValue.micros, .issue, reference: reference, context: context))
            }
            precondition(vouchers.isEmpty || vouchers[card.pin] == nil, "cards are checked against issued codes first")
            accounts.append(account)
            let filed = filePin(card.pin, offset: accounts.count - 1)
            precondition(filed, "cards are checked against issued codes first")
            issued.accounts.append(account)
        }
        records.append(.issued(issued))
        return batch
    }

    public mutating func setStatus(pin: String, _ status: AccountStatus, context: ChangeContext) throws(LedgerError) -> Account {
        var account = try account(pin: pin)
        guard account.status != status else { return account }
        guard account.status != .dropped else { throw .refused(pin: pin, .dropped) }
        let old = account.status
        switch status {
        case .active where account.status == .disabled:
            return try enable(pin: pin, context: context)
        case .active:
            return try activate(pin: pin, context: context)
        case .inactive:
            throw .invalid("an account cannot be made inactive again; disable it instead")
        default:
            account.status = status
        }
        update(account)
        audit(context, "account", pin, "status", old: old.rawValue, new: status.rawValue)
        return account
    }

    /// Enabling returns an account to where it was before it was disabled: active once activated.
    public mutating func enable(pin: String, context: ChangeContext) throws(LedgerError) -> Account {
        var account = try account(pin: pin)
        switch account.status {
        case .dropped: throw .refused(pin: pin, .dropped)
        case .active, .inactive: return account
        case .disabled:
            account.status = account.statusWhenEnabled
            update(account)
            audit(context, "account", pin, "status", old: AccountStatus.disabled.rawValue, new: account.status.rawValue)
            return account
        }
    }

    public mutating func activate(pin: String, context: ChangeContext) throws(LedgerError) -> Account {
        var account = try account(pin: pin)
        switch account.status {
        case .dropped: throw .refused(pin: pin, .dropped)
        case .disabled: throw .refused(pin: pin, .disabled)
        case .active: return account
        case .inactive:
            account.status = .active
            account.activatedAt = context.at
            account.expiresAt = account.validity.expiry(activatedAt: context.at)
            update(account)
            audit(context, "account", pin, "activate", old: AccountStatus.inactive.rawValue, new: AccountStatus.active.rawValue)
            return account
        }
    }

    public mutating func authorise(pin: String, context: ChangeContext) -> Result<Account, Refusal> {
        guard let id = id(ofPin: pin) else { return .failure(.unknownAccount) }
        return authorise(accountID: id, context: context)
    }

    /// As `authorise(pin:context:)`, for an account its PIN has just found.
    mutating func authorise(accountID id: Int64, context: ChangeContext) -> Result<Account, Refusal> {
        let account = accounts[accountIndex(id)]
        if let refusal = account.refusal(at: context.at) { return .failure(refusal) }
        guard account.status == .inactive else { return .success(account) }
        // A first-use card's validity starts with its first successful authorisation.
        do { return .success(try activate(pin: account.pin, context: context)) } catch { return .failure(.inactive) }
    }

    public mutating func setSecret(pin: String, sealed: Data, context: ChangeContext) throws(LedgerError) {
        let account = try account(pin: pin)
        guard account.status != .dropped else { throw .refused(pin: pin, .dropped) }
        records.append(.secret(accountID: account.id, sealed: sealed))
        audit(context, "account", pin, "password", old: "(sealed)", new: "(sealed)")
    }

    public mutating func bindANI(pin: String, ani: String, context: ChangeContext) throws(LedgerError) -> Account {
        var account = try account(pin: pin)
        guard !ani.isEmpty, ani.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { throw .invalid("caller ID must be digits, got \(ani)") }
        if let owner = accountByANI[ani].map({ accounts[accountIndex($0)].pin }) ?? foreignANIs[ani], owner != pin {
            throw .invalid("caller ID \(ani) is already bound to PIN \(owner)")
        }
        guard !account.anis.contains(ani) else { return account }
        account.anis.append(ani)
        accountByANI[ani] = account.id
        update(account)
        audit(context, "account", pin, "bind-ani", old: "", new: ani)
        return account
    }

    /// Applies a status to every card of a batch; returns how many changed.
    public mutating func setStatus(batch id: Int64, _ status: BatchStatus, context: ChangeContext) throws(LedgerError) -> Int {
        var batch = try batch(id)
        guard batch.status != .dropped || status == .dropped else { throw .invalid("batch \(id) is dropped") }
        let old = batch.status
        batch.status = status
        batches[batchIndex(id)] = batch
        records.append(.batch(batch, batchTerms[batchIndex(id)]))
        audit(context, "batch", String(id), "status", old: old.rawValue, new: status.rawValue)
        var changed = 0
        if batch.vouchers {
            for (code, var voucher) in vouchers where voucher.batchID == id && voucher.redeemedBy == nil && voucher.status != status {
                guard voucher.status != .dropped else { continue }
                voucher.status = status
                vouchers[code] = voucher
                records.append(.voucher(voucher))
                changed += 1
            }
            return changed
        }
        for index in accounts.indices where accounts[index].batchID == id {
            var account = accounts[index]
            let target: AccountStatus
            switch (status, account.status) {
            case (_, .dropped): continue
            case (.enabled, .disabled): target = account.statusWhenEnabled
            case (.enabled, _): continue
            case (.disabled, _): target = .disabled
            case (.dropped, _): target = .dropped
            }
            guard target != account.status else { continue }
            account.status = target
            update(account)
            changed += 1
        }
        return changed
    }
}
