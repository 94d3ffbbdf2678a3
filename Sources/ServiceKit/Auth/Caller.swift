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

    /// The customer the token names: its `sub` as a UUID, unless that is the nil UUID, which
    /// is no customer's (RFC 9562 reserves it for "no UUID"); `nil` when it names none.
    public var customerID: UUID? {
        guard let id = UUID(uuidString: subject), id != Caller.nilUUID else { return nil }
        return id
    }

    /// Whether the caller may see or act on `customerID`'s data: admins any, others their own.
    public func owns(_ customerID: UUID) -> Bool {
        isAdmin || self.customerID == customerID
    }

    /// Whose rows a list or a stream shows: for admins what was asked (`nil`: everyone's);
    /// for others their own customer's, and nothing for a list of someone else's or a token
    /// that names no customer (an empty list, not an error that confirms the id).
    public func visibility(asked: UUID? = nil) -> Visibility {
        if isAdmin { return asked.map(Visibility.customer) ?? .all }
        guard let own = customerID, asked == nil || asked == own else { return .nothing }
        return .customer(own)
    }

    /// The nil UUID, all zeros: never a customer's id.
    static let nilUUID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
}
