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

    /// A request answered with anything but 201 (or 409 `out_of_stock`: a refusal the shop
    /// front expects), or not answered at all.
    struct Failure: Sendable {
        let at: ContinuousClock.Instant
        /// `HTTP 503 service_unavailable`, `transport error`, …
        let kind: String
    }

    private struct State {
        var accepted: [Accepted] = []
        var failures: [Failure] = []
        var outOfStock = 0
    }

    private let state = Locked(State())
    private let running = Atomic<Bool>(true)
    private let clients = Locked<[Task<Void, Never>]>([])
    /// The order-service ports the clients take turns on (`nil`: the system's one), as a
    /// load balancer would; the suite takes a replica out before it stops or kills it.
    private let ports: Locked<[Int]>

    /// The catalog's products a stream orders (``products(on:scarce:)``).
    struct Products: Sendable {
        /// Products with more stock than any run orders.
        var plentiful: [String]
        /// A product with a few units, in one order of five: some orders lose the race for
        /// it and are cancelled `out_of_stock`.
        var scarce: String?
    }

    /// Stocks the products a stream orders; with `scarce`, one of that many units too.
    static func products(on system: MercatoSystem, scarce: Int? = nil) async throws -> Products {
        var plentiful: [String] = []
        for (index, price) in ["1.10", "2.35", "3.99"].enumerated() {
            plentiful.append(try await system.stockedSKU(name: "Stream item \(index) ☕", price: price))
        }
        guard let scarce else { return Products(plentiful: plentiful) }
        let sku = "SCARCE-\(UUID().uuidString.prefix(8))"
        try await system.addProduct(sku: sku, name: "Scarce teapot", price: "30.00", stock: scarce)
        return Products(plentiful: plentiful, scarce: sku)
    }

    /// Starts `clients` clients, each placing an order of `products`, pausing for `pause`, and
    /// so on, spread over the order-service replicas at `ports` (default: the system's one).
    init(
        system: MercatoSystem, customers: [UUID], products: Products, clients count: Int = 4,
        pause: Duration = .milliseconds(40), ports: [Int]? = nil
    ) {
        self.ports = Locked(ports ?? [system.ports[.order]!])
        let tasks = (0..<count).map { client in
            Task { [self] in
                var sequence = 0
                while running.load(ordering: .relaxed) {
                    sequence += 1
                    let customer = customers[(client + sequence * count) % customers.count]
                    var items = (0...(sequence % 3)).map { line -> [String: Any] in
                        [
                            "sku": products.plentiful[(client + line) % products.plentiful.count],
                            "quantity": 1 + (sequence + line) % 4,
                        ]
                    }
                    if let scarce = products.scarce, sequence % 5 == 0 { items.append(["sku": scarce, "quantity": 1]) }
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

    private func place(system: MercatoSystem, customer: UUID, items: [[String: Any]], port: Int?) async {
        let now = ContinuousClock.now
        do {
            let (status, body) = try await system.placeOrder(
                customer: customer.uuidString.lowercased(), lines: items, port: port)
            if status == 201, let id = (body["id"] as? String).flatMap(UUID.init(uuidString:)) {
                state.withLock { $0.accepted.append(Accepted(id: id, customerID: customer, at: .now)) }
            } else if status == 409, (body["error"] as? [String: Any])?["code"] as? String == "out_of_stock" {
                state.withLock { $0.outOfStock += 1 }
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
    /// Orders refused at once, 409 `out_of_stock` (nothing written).
    var outOfStock: Int { state.withLock { $0.outOfStock } }

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
