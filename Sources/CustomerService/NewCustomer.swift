import Foundation
import ServiceKit

/// The body of `POST /customers`.
package struct NewCustomer: Decodable, Sendable, Equatable {
    /// Full name, 1–200 characters.
    package var name: String
    /// E-mail address.
    package var email: String
    /// Postal address, 1–500 characters.
    package var address: String

    /// Creates a request body.
    package init(name: String, email: String, address: String) {
        self.name = name
        self.email = email
        self.address = address
    }

    /// The same request, trimmed and checked; throws a 422 naming the first bad field.
    package func validated() throws -> NewCustomer {
        NewCustomer(
            name: try FieldValidation.text(name, field: "name", maxLength: 200),
            email: try FieldValidation.email(email, field: "email"),
            address: try FieldValidation.text(address, field: "address", maxLength: 500))
    }
}
