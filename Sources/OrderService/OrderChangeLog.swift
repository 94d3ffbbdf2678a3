package import Foundation

/// The numbered changes of every order, which the live view streams: recorded by
/// ``OrderStore`` in the transaction that made each change, numbered here once it has
/// committed.
package protocol OrderChangeLog: Sendable {
    /// Numbers the changes recorded so far whose transactions have ended, after every
    /// change numbered before: from then on ``changes(after:customerID:limit:)`` returns them.
    /// Every change is recorded in the transaction that made it (``OrderStore/place(_:idempotency:traceparent:)``,
    /// ``OrderStore/markInvoiced(_:)``) and numbered soon after. Safe to call from several replicas at
    /// once (they take turns). Returns whether every change committed before the call is now
    /// numbered: a change waits while an older transaction is still running.
    @discardableResult
    func settleChanges() async throws -> Bool

    /// The number of the last change numbered so far (0 before the first).
    func lastChangeSequence() async throws -> Int64

    /// Up to `limit` changes numbered after `sequence`, in sequence order, optionally of one
    /// customer's orders.
    func changes(after sequence: Int64, customerID: UUID?, limit: Int) async throws -> [OrderChange]

    /// One order's numbered changes, oldest first (empty if the order does not exist); it
    /// settles first, so a change made before the call is in it.
    func history(of orderID: UUID) async throws -> [OrderChange]

    /// Orders per status, optionally of one customer, as of the last numbered change (which
    /// the result names), read in one snapshot.
    func statusCounts(customerID: UUID?) async throws -> OrderStatusCounts

}
