public import Foundation

/// Whose data a caller may see in a list or a stream. A caller who may see nothing is a case
/// of its own, answered with nothing without asking the database, rather than a filter by a
/// customer id that no row was supposed to have (any id can be some customer's).
public enum Visibility: Sendable, Hashable {
    /// Every customer's: an admin who asked for no customer in particular.
    case all
    /// This customer's only.
    case customer(UUID)
    /// Nobody's: a caller whose token names no customer, or a customer asking for another's.
    case nothing

    /// `query` run with the customer filter this stands for (`nil`: every customer), or
    /// `empty` for ``nothing``, without running `query` at all.
    public func query<T>(empty: T, _ query: (UUID?) async throws -> T) async rethrows -> T {
        switch self {
        case .all: try await query(nil)
        case .customer(let id): try await query(id)
        case .nothing: empty
        }
    }

    /// Whether a row of `customerID` is visible.
    public func includes(_ customerID: UUID) -> Bool {
        switch self {
        case .all: true
        case .customer(let id): id == customerID
        case .nothing: false
        }
    }
}
