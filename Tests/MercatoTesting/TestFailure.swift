/// A test failure with a sentence saying what did not happen.
public struct TestFailure: Error, CustomStringConvertible {
    /// What went wrong.
    public var description: String

    /// Creates the failure.
    public init(_ description: String) { self.description = description }
}
