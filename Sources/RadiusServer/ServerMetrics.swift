import CoreMetrics
import Synchronization

/// The server's counters, through swift-metrics (the executable bootstraps Prometheus). Metric
/// objects are made once per label set and kept, so counting costs a dictionary lookup (keyed by
/// the label values themselves: joining them into one string cost an allocation per count).
public final class ServerMetrics: Sendable {
    private struct Key: Hashable {
        let label: String
        let first: String
        let second: String
        let third: String

        /// The outcome, code or reason alone: the table holds a few dozen label sets, and hashing
        /// all four strings was most of what counting a request cost. Equality compares them all.
        func hash(into hasher: inout Hasher) { hasher.combine(third) }
    }

    private let counters = Mutex<[Key: Counter]>([:])
    private let latency = Timer(label: "ratel_radius_request_duration_seconds", preferredDisplayUnit: .seconds)
    private let openReservations = Gauge(label: "ratel_open_reservations")
    private let liveCalls = Gauge(label: "ratel_live_calls")
    private let duplicateCacheItems = Gauge(label: "ratel_radius_duplicate_cache_items")

    public init() {}

    /// A request that reached the policy, by listener, NAS and what came of it.
    func request(_ listener: String, nas: String, outcome: String) {
        count("ratel_radius_requests_total", ["listener": listener, "nas": nas, "outcome": outcome])
    }

    /// A packet dropped without an answer, by reason (and NAS, where it is known).
    func drop(_ listener: String, nas: String, reason: String) {
        count("ratel_radius_dropped_total", ["listener": listener, "nas": nas, "reason": reason])
    }

    func reply(_ listener: String, nas: String, code: String) {
        count("ratel_radius_replies_total", ["listener": listener, "nas": nas, "code": code])
    }

    /// A Disconnect-Request or CoA-Request and how it ended, by NAS.
    func control(_ kind: String, nas: String, outcome: String) {
        count("ratel_radius_control_requests_total", ["kind": kind, "nas": nas, "outcome": outcome])
    }

    /// A datagram on the Disconnect/CoA socket that answers nothing we sent.
    func controlDrop(reason: String) {
        count("ratel_radius_control_dropped_total", ["reason": reason])
    }

    /// Counts what one socket of a listen address hands its event loop: how evenly the loops
    /// share the work. Made once per socket and kept, so each read costs one increment.
    func received(_ listener: String, address: String, loop: Int) -> Counter {
        Counter(label: "ratel_radius_received_total", dimensions: [("listener", listener), ("address", address), ("loop", String(loop))])
    }

    func observe(nanoseconds: Int64) { latency.recordNanoseconds(nanoseconds) }

    func gauges(openReservations open: Int, liveCalls live: Int, duplicateCacheItems cached: Int) {
        openReservations.record(open)
        liveCalls.record(live)
        duplicateCacheItems.record(cached)
    }

    private func count(_ label: String, _ dimensions: KeyValuePairs<String, String>) {
        func value(_ index: Int) -> String { index < dimensions.count ? dimensions[index].value : "" }
        let key = Key(label: label, first: value(0), second: value(1), third: value(2))
        let counter = counters.withLock { counters in
            if let existing = counters[key] { return existing }
            let made = Counter(label: label, dimensions: dimensions.map { ($0.key, $0.value) })
            counters[key] = made
            return made
        }
        counter.increment()
    }
}
