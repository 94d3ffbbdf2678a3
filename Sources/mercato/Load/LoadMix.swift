import Foundation
import Locking
import NIOCore
import NIOHTTP1

/// `--pay` and `--cancel`: after the orders are placed, pays a share of them in full and
/// cancels another share (and sends both for a share `--race` of them at once, so payments
/// race cancellations), as customers would; a request without a definitive answer (a 503,
/// a dropped connection) is sent again with the same `Idempotency-Key`. Returns the state
/// each order must end in, for ``LoadCheck``.
struct LoadMix {
    /// What the mix did.
    struct Outcome: Sendable {
        /// The state each touched order must end in: `paid` or `cancelled` (others stay `invoiced`).
        var expected: [String: String] = [:]
        var paid = 0
        var cancelled = 0
        /// Payments answered 409 because the cancellation won, or cancellations 409 because the payment did.
        var lostRaces = 0
        var declined = 0
        /// Requests without a definitive answer by the deadline (status 0), or with an answer
        /// the mix does not expect, by status.
        var gaveUp: [Int: Int] = [:]

        var summary: String {
            let gaveUp = self.gaveUp.sorted { $0.key < $1.key }.map {
                "\($0.value) × \($0.key == 0 ? "no answer" : "HTTP \($0.key)")"
            }
            return "paid \(paid), cancelled \(cancelled), races lost \(lostRaces), declined \(declined)"
                + (gaveUp.isEmpty ? "" : ", gave up \(gaveUp.joined(separator: ", "))")
        }
    }

    let pay: Double
    let cancel: Double
    let race: Double

    var isEmpty: Bool { pay + cancel + race == 0 }

    func run(
        _ accepted: [LoadRecorder.Accepted], orders: HTTPConnection, invoices: HTTPConnection, clients: Int,
        deadline: ContinuousClock.Instant
    ) async throws -> Outcome {
        var generator = SystemRandomNumberGenerator()
        var jobs: [(order: String, paying: Bool)] = []
        for order in accepted {
            let draw = Double.random(in: 0..<1, using: &generator)
            if draw < pay + race { jobs.append((order.orderID, true)) }
            if draw >= pay, draw < pay + race + cancel { jobs.append((order.orderID, false)) }
        }
        // Racing pairs sit next to each other, so they are sent at about the same time.
        let outcome = Locked(Outcome())
        let (payments, cancellations) = (jobs.filter(\.paying), jobs.filter { !$0.paying })
        async let paying: Void = LoadCheck.parallel(payments, connections: max(1, clients / 2), service: invoices) {
            job, send in
            let result = try await Self.pay(job.order, send: send, deadline: deadline)
            outcome.withLock { outcome in
                switch result {
                case 201:
                    outcome.paid += 1
                    outcome.expected[job.order] = outcome.expected[job.order] ?? "paid"
                case 402: outcome.declined += 1
                case 409: outcome.lostRaces += 1
                default: outcome.gaveUp[result, default: 0] += 1
                }
            }
        }
        async let cancelling: Void = LoadCheck.parallel(
            cancellations, connections: max(1, clients / 2), service: orders
        ) { job, send in
            let result = try await Self.retrying(deadline) {
                try await send(.POST, "/orders/\(job.order)/cancel", nil).status
            }
            outcome.withLock { outcome in
                switch result {
                // A cancellation that wins ends the order cancelled even if its payment was
                // answered 201 first: that payment is refunded.
                case 200:
                    outcome.cancelled += 1
                    outcome.expected[job.order] = "cancelled"
                case 409: outcome.lostRaces += 1
                default: outcome.gaveUp[result, default: 0] += 1
                }
            }
        }
        _ = try await (paying, cancelling)
        return outcome.withLock { $0 }
    }

    /// Pays an order's invoice (waiting for it to exist); returns the final status.
    private static func pay(_ order: String, send: LoadCheck.Send, deadline: ContinuousClock.Instant) async throws
        -> Int
    {
        var invoice: [String: Any]?
        while invoice == nil, ContinuousClock.now < deadline {
            invoice =
                (try? await send(.GET, "/invoices?order_id=\(order)", nil).json()?["data"] as? [[String: Any]])?.first
            if invoice == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        guard let id = invoice?["id"] as? String, let total = invoice?["total"] as? String else { return 0 }
        let body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: ["amount": total, "method": "card"]))
        return try await retrying(deadline) {
            try await send(.POST, "/invoices/\(id)/payments", body, idempotencyKey: "load-\(order)").status
        }
    }

    /// Sends until a definitive answer (not 5xx, not a transport error) or the deadline.
    private static func retrying(_ deadline: ContinuousClock.Instant, _ request: () async throws -> Int) async throws
        -> Int
    {
        while ContinuousClock.now < deadline {
            if let status = try? await request(), status < 500 { return status }
            try await Task.sleep(for: .milliseconds(200))
        }
        return 0
    }
}
