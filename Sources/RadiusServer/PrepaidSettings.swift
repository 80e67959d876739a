public import RatingEngine

/// The prepaid policy's knobs, with the defaults `ratel serve` documents.
public struct PrepaidSettings: Sendable {
    /// Plans by the name accounts carry (`Account.plan`); a reload swaps them under running calls.
    public var plans: PlanBook
    /// Added to the grant before an unanswered reservation expires: ringing time plus a margin
    /// for a Stop that is late or lost.
    public var reservationGraceSeconds: Int64
    /// An upper bound on any grant, on top of the plan's own `max_duration`; 0 for none.
    public var maxGrantSeconds: Int64
    /// Debit the rated cost even where it exceeds what was reserved (a NAS that ignored the grant).
    public var allowOverdraft: Bool
    public var throttle: FailureThrottle.Settings

    public init(plans: PlanBook, reservationGraceSeconds: Int64 = 300, maxGrantSeconds: Int64 = 0,
                allowOverdraft: Bool = false, throttle: FailureThrottle.Settings = .init()) {
        self.plans = plans
        self.reservationGraceSeconds = reservationGraceSeconds
        self.maxGrantSeconds = maxGrantSeconds
        self.allowOverdraft = allowOverdraft
        self.throttle = throttle
    }

    /// The longest call `budget` pays for from `start`, within `max_grant`.
    func longestGrant(_ plan: TariffPlan, _ number: DialledNumber, start: Int64, budget: Int64) throws(RatingError) -> Int64 {
        let longest = try plan.maxDuration(number, start: start, budgetMicros: max(0, budget))
        return maxGrantSeconds > 0 ? min(longest, maxGrantSeconds) : longest
    }
}
