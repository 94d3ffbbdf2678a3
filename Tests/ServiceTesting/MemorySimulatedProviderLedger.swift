package import Contracts
import Foundation
package import InvoiceService
import Locking

/// The simulated provider's books in memory, for unit tests; it passes the same contract
/// suite as `PostgresSimulatedProviderLedger`.
package final class MemorySimulatedProviderLedger: SimulatedProviderLedger {
    private struct Entry {
        var outcome: ChargeOutcome
        var amount: Money
        var refunded: Bool
    }

    private let entries = Locked<[String: Entry]>([:])

    /// Creates empty books.
    package init() {}

    package func charge(key: String) async throws -> ChargeOutcome? {
        entries.withLock { $0[key]?.outcome }
    }

    package func capture(key: String, amount: Money, method: String) async throws -> ChargeOutcome {
        record(
            key: key,
            Entry(
                outcome: .captured(reference: "ch_" + UUID().uuidString.lowercased()), amount: amount, refunded: false))
    }

    package func decline(key: String, amount: Money, reason: String) async throws -> ChargeOutcome {
        record(key: key, Entry(outcome: .declined(reason: reason), amount: amount, refunded: false))
    }

    package func cancel(key: String) async throws -> ChargeOutcome {
        record(key: key, Entry(outcome: .cancelled, amount: .zero, refunded: false))
    }

    private func record(key: String, _ entry: Entry) -> ChargeOutcome {
        entries.withLock { entries in
            if let existing = entries[key] { return existing.outcome }
            entries[key] = entry
            return entry.outcome
        }
    }

    package func refund(reference: String, amount: Money) async throws {
        try entries.withLock { entries throws(PaymentGatewayError) in
            guard let key = entries.first(where: { $0.value.outcome == .captured(reference: reference) })?.key,
                entries[key]!.amount == amount
            else { throw PaymentGatewayError(.rejected, "no capture \(reference) of \(amount)") }
            entries[key]!.refunded = true
        }
    }

    package func totals() async throws -> (captured: Money, refunded: Money) {
        entries.withLock { entries in
            var captured = Money.zero
            var refunded = Money.zero
            for entry in entries.values {
                guard case .captured = entry.outcome else { continue }
                if entry.refunded { refunded = refunded + entry.amount } else { captured = captured + entry.amount }
            }
            return (captured, refunded)
        }
    }
}
