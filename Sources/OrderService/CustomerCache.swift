import Contracts
import Foundation
import Locking

/// Recently read customers of the replica, for at most ``maxAge``: under load most orders
/// are for customers that ordered a moment ago, and reading the same row a thousand times a
/// second cost a database round trip per order. The replica itself trails customer-service
/// by the events in flight; this adds at most ``maxAge`` to that (several order-service
/// replicas each apply only their share of the customer events, so a cache cannot be kept
/// exact by the events alone).
final class CustomerCache: Sendable {
    private struct Entry {
        var customer: CustomerSnapshot
        var readAt: ContinuousClock.Instant
    }

    /// How long an entry is used. Default 1 s.
    let maxAge: Duration
    /// Entries kept at most; past it the cache starts over, a cheap bound on memory.
    let capacity: Int
    private let entries = Locked<[UUID: Entry]>([:])

    init(maxAge: Duration = .seconds(1), capacity: Int = 10_000) {
        self.maxAge = maxAge
        self.capacity = capacity
    }

    /// The customer, if read less than ``maxAge`` ago.
    func customer(_ id: UUID, now: ContinuousClock.Instant = .now) -> CustomerSnapshot? {
        entries.withLock { entries in
            guard let entry = entries[id], now - entry.readAt < maxAge else { return nil }
            return entry.customer
        }
    }

    /// Remembers `customer` as read `now`, unless a newer version is held.
    func remember(_ customer: CustomerSnapshot, now: ContinuousClock.Instant = .now) {
        entries.withLock { entries in
            if let held = entries[customer.customerID], held.customer.version > customer.version { return }
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[customer.customerID] = Entry(customer: customer, readAt: now)
        }
    }
}
