/// What customer-service's storage refuses, in the domain's terms; the routes answer it
/// over HTTP.
package struct CustomerStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was refused.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private let value: String
        private init(_ value: String) { self.value = value }
        package var description: String { value }

        /// Another customer has this e-mail address (compared ignoring case).
        package static let emailTaken = Code("emailTaken")
        /// A customer with this id exists (a customer registering itself twice).
        package static let idTaken = Code("idTaken")
    }

    /// What was refused.
    package var code: Code

    /// Creates the error.
    package init(_ code: Code) {
        self.code = code
    }

    package var description: String { "CustomerStoreError.\(code)" }
}
