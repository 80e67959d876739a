import Synchronization

/// The plans in force, by name. Reloading installs a new immutable `TariffPlan` in one step;
/// a call being rated keeps the reference it took, so lookups never wait on a reload.
public final class PlanBook: Sendable {
    private let plans = Mutex<[String: TariffPlan]>([:])

    public init(_ initial: [TariffPlan] = []) {
        for plan in initial { install(plan) }
    }

    /// Plans under the names accounts carry (`plan = "default"`), which need not be the plans' own names.
    public init(named initial: [String: TariffPlan]) {
        for (name, plan) in initial { install(plan, as: name) }
    }

    public func plan(named name: String) -> TariffPlan? {
        plans.withLock { $0[name] }
    }

    /// Installs `plan` under `name` (its own name by default), replacing any plan of that name;
    /// returns the one replaced.
    @discardableResult
    public func install(_ plan: TariffPlan, as name: String? = nil) -> TariffPlan? {
        plans.withLock { $0.updateValue(plan, forKey: name ?? plan.name) }
    }

    public var names: [String] {
        plans.withLock { $0.keys.sorted() }
    }
}
