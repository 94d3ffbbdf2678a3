public import Foundation
public import HummingbirdAuth

/// Who sent a request, as its verified bearer token says: the subject and its scopes.
public struct Caller: PermissionProviding, Sendable, Equatable {
    /// The token's `sub`: a customer id, or an operator's or a client's name for admins.
    public var subject: String
    /// The token's scopes.
    public var permissions: Set<Scope>
    /// The token as it was sent, to forward to another Mercato service on the caller's
    /// behalf (it then sees exactly what the caller may see).
    public var token: String

    /// Creates a caller.
    public init(subject: String, permissions: Set<Scope>, token: String) {
        self.subject = subject
        self.permissions = permissions
        self.token = token
    }

    /// Whether the caller may see and act on any customer's data.
    public var isAdmin: Bool { permissions.contains(.admin) }

    /// The customer a non-admin caller is; `nil` when `sub` is not a customer id.
    public var customerID: UUID? { UUID(uuidString: subject) }

    /// Whether the caller may see or act on `customerID`'s data: admins any, others their own.
    public func owns(_ customerID: UUID) -> Bool {
        isAdmin || self.customerID == customerID
    }

    /// The customer filter a list runs with: for admins what was asked (`nil`: everyone);
    /// for others their own customer, and for a list of someone else's, or a `sub` that is no
    /// customer id, a customer no row has (an empty list, not an error that confirms the id).
    public func listFilter(asked: UUID?) -> UUID? {
        if isAdmin { return asked }
        guard let own = customerID, asked == nil || asked == own else { return Caller.nobody }
        return own
    }

    /// A customer id that is never assigned (the nil UUID).
    static let nobody = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
}
