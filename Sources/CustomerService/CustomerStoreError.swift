/// What customer-service's storage refuses, in the domain's terms; the routes answer it
/// over HTTP.
public struct CustomerStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was refused.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let value: String
        private init(_ value: String) { self.value = value }
        public var description: String { value }

        /// Another customer has this e-mail address (compared ignoring case).
        public static let emailTaken = Code("emailTaken")
        /// A customer with this id exists (a customer registering itself twice).
        public static let idTaken = Code("idTaken")
    }

    /// What was refused.
    public var code: Code

    /// Creates the error.
    public init(_ code: Code) {
        self.code = code
    }

    public var description: String { "CustomerStoreError.\(code)" }
}
