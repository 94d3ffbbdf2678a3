package import Contracts
import Foundation
package import Postgres

/// The simulated provider's books in PostgreSQL (`simulated_provider_charges`), each write a
/// transaction of its own: a charge stays made whatever happens to the invoice transaction
/// around it, as at a real provider. Audits read it as the provider's side of the money.
package struct PostgresSimulatedProviderLedger: SimulatedProviderLedger {
    private let client: PostgresClient

    /// Creates the books in `client`'s database (invoice-service's migrations create the table).
    package init(client: PostgresClient) {
        self.client = client
    }

    package func charge(key: String) async throws -> ChargeOutcome? {
        try await client.query(
            "SELECT status, reference, decline_reason FROM simulated_provider_charges WHERE key = $1", key
        )
        .first.map(Self.outcome)
    }

    package func capture(key: String, amount: Money, method: String) async throws -> ChargeOutcome {
        try await record(key: key, status: "captured", amount: amount, method: method, reason: nil)
    }

    package func decline(key: String, amount: Money, reason: String) async throws -> ChargeOutcome {
        try await record(key: key, status: "declined", amount: amount, method: nil, reason: reason)
    }

    package func cancel(key: String) async throws -> ChargeOutcome {
        try await record(key: key, status: "cancelled", amount: .zero, method: nil, reason: nil)
    }

    private func record(key: String, status: String, amount: Money, method: String?, reason: String?) async throws
        -> ChargeOutcome
    {
        // Two calls with one key at once: the second waits on the first's row, then reads it.
        try await client.query(
            """
            INSERT INTO simulated_provider_charges (key, reference, status, amount, method, decline_reason)
            VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING
            """, key, "ch_" + UUID().uuidString.lowercased(), status, amount.amount, method, reason)
        guard let outcome = try await charge(key: key) else {
            throw PaymentGatewayError(.unavailable, "the charge was not recorded")
        }
        return outcome
    }

    package func refund(reference: String, amount: Money) async throws {
        let rows = try await client.query(
            """
            UPDATE simulated_provider_charges SET status = 'refunded', refunded_at = coalesce(refunded_at, now())
            WHERE reference = $1 AND amount = $2 AND status IN ('captured', 'refunded') RETURNING key
            """, reference, amount.amount)
        guard rows.count == 1 else { throw PaymentGatewayError(.rejected, "no capture \(reference) of \(amount)") }
    }

    package func totals() async throws -> (captured: Money, refunded: Money) {
        let row = try await client.query(
            """
            SELECT coalesce(sum(amount) FILTER (WHERE status = 'captured'), 0), coalesce(sum(amount) FILTER (WHERE status = 'refunded'), 0)
            FROM simulated_provider_charges
            """)[0]
        return (Money(try row.decode(Decimal.self, at: 0)), Money(try row.decode(Decimal.self, at: 1)))
    }

    private static func outcome(_ row: PostgresRow) throws -> ChargeOutcome {
        switch try row.decode(String.self, at: 0) {
        case "declined": .declined(reason: try row.decode(String?.self, at: 2) ?? "declined")
        case "cancelled": .cancelled
        default: .captured(reference: try row.decode(String.self, at: 1))
        }
    }
}
