import Contracts
package import Foundation
package import Postgres
package import ServiceKit

/// Payments of invoices in PostgreSQL: started under the invoice's lock, settled from the
/// provider's answer, claimed for reconciliation and refunds.
package struct PostgresPaymentStore: PaymentStore {
    let client: PostgresClient
    let stamp: EventStamp

    /// Creates the store; `stamp` marks the events it queues (`invoice.paid`, `invoice.refunded`).
    package init(client: PostgresClient, stamp: EventStamp) {
        self.client = client
        self.stamp = stamp
    }

    static let paymentColumns =
        "id, invoice_id, idempotency_key, request, amount, method, token, status, provider_reference, failure_reason, created_at, updated_at, refund_due, attempt"

    static func decodePayment(_ row: PostgresRow) throws -> Payment {
        var payment = Payment(
            id: try row.decode(UUID.self, at: 0), invoiceID: try row.decode(UUID.self, at: 1),
            idempotencyKey: try row.decode(String.self, at: 2),
            request: try row.decode(String.self, at: 3), amount: Money(try row.decode(Decimal.self, at: 4)),
            method: try row.decode(String.self, at: 5),
            token: try row.decode(String?.self, at: 6),
            status: PaymentLifecycle.Status(rawValue: try row.decode(String.self, at: 7)) ?? .pending,
            providerReference: try row.decode(String?.self, at: 8), failureReason: try row.decode(String?.self, at: 9),
            refundDue: try row.decode(String?.self, at: 12).flatMap(RefundReason.init(rawValue:)),
            createdAt: try row.decode(Date.self, at: 10),
            updatedAt: try row.decode(Date.self, at: 11))
        payment.attempt = try row.decode(Int.self, at: 13)
        return payment
    }

    /// The invoice, locked until the transaction ends: every payment and status change of an
    /// invoice happens under this lock, so they are decided one at a time.
    func lockedInvoice(_ id: UUID, on connection: PostgresConnection) async throws -> Invoice? {
        try await PostgresInvoiceStore.load(
            try await connection.query(
                "SELECT \(PostgresInvoiceStore.columns) FROM invoices WHERE id = $1 FOR UPDATE", id),
            on: connection
        ).first
    }

    package func startPayment(_ new: NewPayment, at time: Date) async throws -> PaymentStart {
        try await client.transaction { connection in
            guard let invoice = try await lockedInvoice(new.invoiceID, on: connection) else {
                throw InvoiceStoreError(.notFound, "invoice \(new.invoiceID.uuidString.lowercased())")
            }
            let existing = try await connection.query(
                "SELECT \(Self.paymentColumns) FROM payments WHERE invoice_id = $1 AND idempotency_key = $2 FOR UPDATE",
                new.invoiceID,
                new.idempotencyKey
            ).first.map(Self.decodePayment)
            if var payment = existing {
                guard payment.request == new.request else {
                    throw InvoiceStoreError(
                        .idempotencyKeyReused, "this Idempotency-Key was used for a different payment request")
                }
                switch payment.status {
                case .failed where invoice.status == .issued && !invoice.isOverdue(at: time):
                    // A failed attempt took nothing: the same key may try again.
                    guard let next = PaymentLifecycle.transition(from: .failed, on: .retried) else { break }
                    try await Self.refuseIfAnotherIsLive(invoice, except: payment.id, on: connection)
                    payment.attempt = try await connection.query(
                        "UPDATE payments SET status = $2, failure_reason = NULL, updated_at = $3, attempt = attempt + 1 WHERE id = $1 RETURNING attempt",
                        payment.id, next.rawValue, time)[0].decode(Int.self, at: 0)
                    payment.status = next
                    payment.failureReason = nil
                    payment.updatedAt = time
                case .pending:
                    // The client asks again about a payment whose outcome is unknown, and its
                    // charge is sent again (same key, never charged twice): the reconciler
                    // leaves it alone for as long as that call may take, from now.
                    payment.attempt = try await connection.query(
                        "UPDATE payments SET updated_at = $2, attempt = attempt + 1 WHERE id = $1 RETURNING attempt",
                        payment.id, time
                    )[0].decode(Int.self, at: 0)
                    payment.updatedAt = time
                default: break
                }
                return PaymentStart(payment: payment, invoice: invoice, isReplay: true)
            }
            try invoice.checkPayable(amount: new.amount, at: time)
            try await Self.refuseIfAnotherIsLive(invoice, except: nil, on: connection)
            let payment = Payment(
                id: UUID.timeOrdered(at: time), invoiceID: invoice.id, idempotencyKey: new.idempotencyKey,
                request: new.request, amount: new.amount, method: new.method,
                token: new.token, status: .pending, createdAt: time, updatedAt: time)
            try await connection.query(
                """
                INSERT INTO payments (id, invoice_id, idempotency_key, request, amount, method, token, status, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8)
                """, payment.id, payment.invoiceID, payment.idempotencyKey, payment.request, payment.amount.amount,
                payment.method, payment.token,
                time)
            return PaymentStart(payment: payment, invoice: invoice, isReplay: false)
        }
    }

    static func refuseIfAnotherIsLive(_ invoice: Invoice, except id: UUID?, on connection: PostgresConnection)
        async throws
    {
        let live = try await connection.query(
            """
            SELECT count(*) FROM payments
            WHERE invoice_id = $1 AND (status = 'pending' OR (status = 'captured' AND refund_due IS NULL)) AND id IS DISTINCT FROM $2
            """, invoice.id, id
        )[0].decode(Int.self, at: 0)
        if live > 0 {
            throw InvoiceStoreError(.paymentInProgress, "another payment of invoice \(invoice.number) is in progress")
        }
    }

    package func settlePayment(_ id: UUID, outcome: PaymentOutcome, at time: Date, traceparent: String?, attempt: Int?)
        async throws -> (Payment, Invoice)
    {
        let stamp = self.stamp
        return try await client.transaction { connection in
            guard
                let invoiceID = try await connection.query("SELECT invoice_id FROM payments WHERE id = $1", id).first?
                    .decode(UUID.self, at: 0),
                var invoice = try await lockedInvoice(invoiceID, on: connection),
                let current = try await connection.query(
                    "SELECT \(Self.paymentColumns) FROM payments WHERE id = $1 FOR UPDATE", id
                ).first
                    .map(Self.decodePayment)
            else { throw InvoiceStoreError(.notFound, "payment \(id.uuidString.lowercased())") }
            if case .failed = outcome, let attempt, attempt != current.attempt { return (current, invoice) }
            guard var payment = current.applying(outcome, at: time) else { return (current, invoice) }
            let paid = payment.status == .captured && invoice.take(&payment, at: time)
            try await connection.query(
                """
                UPDATE payments SET status = $2, provider_reference = $3, failure_reason = $4, refund_due = $5, updated_at = $6, lease_until = NULL
                WHERE id = $1
                """, payment.id, payment.status.rawValue, payment.providerReference, payment.failureReason,
                payment.refundDue?.rawValue, time)
            guard paid else { return (payment, invoice) }
            try await connection.query(
                "UPDATE invoices SET status = 'paid', paid_at = $2 WHERE id = $1", invoice.id, time)
            try await Outbox.append(
                [
                    try stamp.message(
                        invoice.paidEvent(payment, at: time), subject: invoice.id, time: time, traceparent: traceparent)
                ], on: connection)
            return (payment, invoice)
        }
    }

    package func payments(invoiceID: UUID) async throws -> [Payment] {
        try await client.query(
            "SELECT \(Self.paymentColumns) FROM payments WHERE invoice_id = $1 ORDER BY created_at, id", invoiceID
        )
        .map(Self.decodePayment)
    }

    package func claimRefunds(limit: Int, lease: Duration, at time: Date) async throws -> [Payment] {
        try await client.query(
            """
            UPDATE payments SET lease_until = $2::timestamptz + make_interval(secs => $3)
            WHERE id IN (
                SELECT id FROM payments
                WHERE status = 'captured' AND refund_due IS NOT NULL AND (lease_until IS NULL OR lease_until < $2)
                ORDER BY updated_at LIMIT $1 FOR UPDATE SKIP LOCKED
            )
            RETURNING \(Self.paymentColumns)
            """, limit, time, lease.timeInterval
        ).map(Self.decodePayment)
    }

    package func claimGuessedFailures(limit: Int, lease: Duration, at time: Date) async throws -> [Payment] {
        try await client.query(
            """
            UPDATE payments SET lease_until = $2::timestamptz + make_interval(secs => $3)
            WHERE id IN (
                SELECT id FROM payments WHERE status = 'failed' AND failure_reason = $4 AND (lease_until IS NULL OR lease_until < $2)
                ORDER BY updated_at LIMIT $1 FOR UPDATE SKIP LOCKED
            )
            RETURNING \(Self.paymentColumns)
            """, limit, time, lease.timeInterval, PaymentProcessor.guessedFailure
        ).map(Self.decodePayment)
    }

    package func claimStalePayments(updatedBefore cutoff: Date, limit: Int, lease: Duration, at time: Date) async throws
        -> [Payment]
    {
        try await client.query(
            """
            UPDATE payments SET lease_until = $3::timestamptz + make_interval(secs => $4)
            WHERE id IN (
                SELECT id FROM payments WHERE status = 'pending' AND updated_at < $1 AND (lease_until IS NULL OR lease_until < $3)
                ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED
            )
            RETURNING \(Self.paymentColumns)
            """, cutoff, limit, time, lease.timeInterval
        ).map(Self.decodePayment)
    }

    package func recordRefund(_ id: UUID, at time: Date) async throws {
        let stamp = self.stamp
        try await client.transaction { connection in
            guard
                let invoiceID = try await connection.query("SELECT invoice_id FROM payments WHERE id = $1", id).first?
                    .decode(UUID.self, at: 0),
                let invoice = try await lockedInvoice(invoiceID, on: connection),
                let payment = try await connection.query(
                    "SELECT \(Self.paymentColumns) FROM payments WHERE id = $1 FOR UPDATE", id
                ).first
                    .map(Self.decodePayment),
                let next = PaymentLifecycle.transition(from: payment.status, on: .refunded)
            else { return }
            try await connection.query(
                "UPDATE payments SET status = $2, updated_at = $3, lease_until = NULL WHERE id = $1", id, next.rawValue,
                time)
            try await Outbox.append(
                [try stamp.message(invoice.refundedEvent(payment, at: time), subject: invoice.id, time: time)],
                on: connection)
        }
    }
}
