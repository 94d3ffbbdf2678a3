import Foundation
import Locking
import Synchronization

/// A steady stream of `POST /orders` from a few concurrent clients, as a shop front would
/// send them, recording every answer: what was accepted (201) and what failed, and when.
final class OrderStream: Sendable {
    /// An order answered 201.
    struct Accepted: Sendable {
        let id: UUID
        let customerID: UUID
        let at: ContinuousClock.Instant
    }

    /// A request answered with anything but 201, or not answered at all.
    struct Failure: Sendable {
        let at: ContinuousClock.Instant
        /// `HTTP 503 service_unavailable`, `transport error`, …
        let kind: String
    }

    private struct State {
        var accepted: [Accepted] = []
        var failures: [Failure] = []
    }

    private let state = Locked(State())
    private let running = Atomic<Bool>(true)
    private let clients = Locked<[Task<Void, Never>]>([])
    /// The order-service ports the clients take turns on (`nil`: the system's one), as a
    /// load balancer would; the suite takes a replica out before it stops or kills it.
    private let ports: Locked<[Int]>

    /// Starts `clients` clients, each placing an order, pausing for `pause`, and so on,
    /// spread over the order-service replicas at `ports` (default: the system's one).
    init(
        system: MercatoSystem, customers: [UUID], clients count: Int = 4, pause: Duration = .milliseconds(40),
        ports: [Int]? = nil
    ) {
        self.ports = Locked(ports ?? [system.ports[.order]!])
        let tasks = (0..<count).map { client in
            Task { [self] in
                var sequence = 0
                while running.load(ordering: .relaxed) {
                    sequence += 1
                    let customer = customers[(client + sequence * count) % customers.count]
                    let items = (0...(sequence % 3)).map { line in
                        (
                            "Item \(client)-\(sequence)-\(line) ☕", 1 + (sequence + line) % 4,
                            "\(1 + line).\(10 + sequence % 90)"
                        )
                    }
                    let port = self.ports.withLock { $0.isEmpty ? nil : $0[(client + sequence) % $0.count] }
                    await place(system: system, customer: customer, items: items, port: port)
                    try? await Task.sleep(for: pause)
                }
            }
        }
        clients.withLock { $0 = tasks }
    }

    /// Stops sending to the replica at `port` (it is about to be stopped or killed).
    func exclude(port: Int) { ports.withLock { $0.removeAll { $0 == port } } }

    /// Sends to the replica at `port` again.
    func include(port: Int) { ports.withLock { if !$0.contains(port) { $0.append(port) } } }

    private func place(system: MercatoSystem, customer: UUID, items: [(String, Int, String)], port: Int?) async {
        let now = ContinuousClock.now
        do {
            let (status, body) = try await system.placeOrder(
                customer: customer.uuidString.lowercased(), items: items, port: port)
            if status == 201, let id = (body["id"] as? String).flatMap(UUID.init(uuidString:)) {
                state.withLock { $0.accepted.append(Accepted(id: id, customerID: customer, at: .now)) }
            } else {
                let code = (body["error"] as? [String: Any])?["code"] as? String ?? "-"
                state.withLock { $0.failures.append(Failure(at: now, kind: "HTTP \(status) \(code)")) }
            }
        } catch {
            state.withLock { $0.failures.append(Failure(at: now, kind: "transport error")) }
        }
    }

    /// Stops the clients and waits for their last requests.
    func stop() async {
        running.store(false, ordering: .relaxed)
        for task in clients.withLock({ $0 }) { await task.value }
    }

    var accepted: [Accepted] { state.withLock { $0.accepted } }
    var acceptedIDs: Set<UUID> { Set(accepted.map(\.id)) }
    var failures: [Failure] { state.withLock { $0.failures } }

    /// Waits until at least `count` orders were accepted.
    func waitForAccepted(_ count: Int, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while state.withLock({ $0.accepted.count }) < count {
            guard ContinuousClock.now < deadline else {
                throw SystemTestFailure("fewer than \(count) orders accepted within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The failures by kind, e.g. `503 ×12, transport error ×2`.
    var failureSummary: String {
        let kinds = Dictionary(grouping: failures, by: \.kind).mapValues(\.count)
        return kinds.isEmpty
            ? "-" : kinds.sorted { $0.value > $1.value }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
    }
}
