/// An environment variable with a value a service cannot use.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    /// The variable, e.g. `PORT`.
    public var variable: String
    /// What is wrong with it.
    public var message: String

    /// Creates an error.
    public init(variable: String, message: String) {
        self.variable = variable
        self.message = message
    }

    public var description: String { "\(variable): \(message)" }
}
