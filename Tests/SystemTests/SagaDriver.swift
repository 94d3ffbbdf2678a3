import Foundation
import Locking
import Synchronization

/// Pays and cancels the orders an ``OrderStream`` placed, at random, as customers would:
/// each order is paid (share `pay`), cancelled (`cancel`), both at once (`race`: the
/// payment and the cancellation sent together, whichever wins), or left open. A request that gets
/// no definitive answer (a transport error, a 503) is sent again with the same
/// `Idempotency-Key` until it does, or until ``stop()`` — so an order whose payment request
/// died with invoice-service is still settled one way or the other.
final class SagaDriver: Sendable {
    private struct State {
        var paid = 0
        var cancelled = 0
        var refused = 0
        var retries = 0
    }

    private let state = Locked(State())
    private let running = Atomic<Bool>(true)
    private let task = Locked<Task<Void, Never>?>(nil)

    init(system: MercatoSystem, stream: OrderStream, pay: Double = 0.65, cancel: Double = 0.1, race: Double = 0.05) {
        let work = Task { [self] in
            var random = SystemRandomNumberGenerator()
            // One task per order, started as the orders are accepted: an order waiting for its
            // invoice never holds back the others.
            await withDiscardingTaskGroup { group in
                var next = 0
                while running.load(ordering: .relaxed) {
                    let orders = stream.accepted
                    for order in orders[next...] {
                        let draw = Double.random(in: 0..<1, using: &random)
                        let id = order.id.uuidString.lowercased()
                        if draw < pay + race { group.addTask { await self.settle(id, paying: true, system: system) } }
                        if draw >= pay, draw < pay + race + cancel {
                            group.addTask { await self.settle(id, paying: false, system: system) }
                        }
                    }
                    next = orders.count
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
        }
        task.withLock { $0 = work }
    }

    /// Pays or cancels one order, retrying until a definitive answer.
    private func settle(_ order: String, paying: Bool, system: MercatoSystem) async {
        while running.load(ordering: .relaxed) {
            do {
                if paying {
                    let (_, list) = try await system.request(.invoice, "GET", "/invoices?order_id=\(order)")
                    guard let invoice = ((list as? [String: Any])?["data"] as? [[String: Any]])?.first,
                        let id = invoice["id"] as? String,
                        let total = invoice["total"] as? String
                    else {
                        // Not invoiced yet, or never: cancelled first (a race the cancellation won).
                        if try await system.orderStatus(order) == "cancelled" {
                            state.withLock { $0.refused += 1 }
                            return
                        }
                        try await Task.sleep(for: .milliseconds(200))
                        continue
                    }
                    let (status, _) = try await system.pay(id, amount: total, key: "saga-\(order)")
                    if [201, 402, 409].contains(status) {
                        state.withLock { status == 201 ? ($0.paid += 1) : ($0.refused += 1) }
                        return
                    }
                } else {
                    let (status, _) = try await system.request(.order, "POST", "/orders/\(order)/cancel")
                    if [200, 409].contains(status) {
                        state.withLock { status == 200 ? ($0.cancelled += 1) : ($0.refused += 1) }
                        return
                    }
                }
            } catch {}
            state.withLock { $0.retries += 1 }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Stops paying and cancelling and waits for the requests in flight.
    func stop() async {
        running.store(false, ordering: .relaxed)
        await task.withLock { $0 }?.value
    }

    var summary: String {
        state.withLock { "paid \($0.paid), cancelled \($0.cancelled), refused \($0.refused), retried \($0.retries)" }
    }
}
