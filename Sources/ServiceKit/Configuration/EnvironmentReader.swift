public import Foundation
import Locking

/// Typed access to environment variables, with defaults and errors that name the variable.
public struct EnvironmentReader: Sendable {
    private let environment: [String: String]
    private let recorder: Recorder?

    /// Reads `values`, by default the process environment.
    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = values
        self.recorder = nil
    }

    /// A reader that remembers every variable asked for: how tests check that what a
    /// deployment sets is what the code reads.
    public static func recording(_ values: [String: String] = [:]) -> (
        EnvironmentReader, read: @Sendable () -> Set<String>
    ) {
        let recorder = Recorder()
        let reader = EnvironmentReader(environment: values, recorder: recorder)
        return (reader, { recorder.names.withLock { $0 } })
    }

    private init(environment: [String: String], recorder: Recorder?) {
        self.environment = environment
        self.recorder = recorder
    }

    private final class Recorder: Sendable {
        let names = Locked<Set<String>>([])
    }

    private var values: RecordingLookup { RecordingLookup(environment: environment, recorder: recorder) }

    /// Looks a variable up, noting the name when recording.
    private struct RecordingLookup {
        let environment: [String: String]
        let recorder: Recorder?

        subscript(name: String) -> String? {
            recorder?.names.withLock { _ = $0.insert(name) }
            return environment[name]
        }
    }

    /// The variable's value, or `fallback` when it is unset or empty.
    public func string(_ name: String, default fallback: String) -> String {
        guard let value = values[name], !value.isEmpty else { return fallback }
        return value
    }

    /// A credential-bearing variable: `NAME`, or the contents of the file `NAME_FILE` names
    /// (a Docker or Kubernetes secret mounted as a file; a trailing newline is dropped), or
    /// `fallback`. Setting both is an error, so a forgotten variable cannot shadow the secret.
    public func secret(_ name: String, default fallback: String) throws -> String {
        let direct = values[name].flatMap { $0.isEmpty ? nil : $0 }
        guard let path = values[name + "_FILE"], !path.isEmpty else { return direct ?? fallback }
        guard direct == nil else {
            throw ConfigurationError(variable: name, message: "set either \(name) or \(name)_FILE, not both")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(variable: name + "_FILE", message: "cannot read \(path.debugDescription)")
        }
        let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
        guard !value.isEmpty else {
            throw ConfigurationError(variable: name + "_FILE", message: "\(path.debugDescription) is empty")
        }
        return value
    }

    /// The variable as an integer within `range`.
    public func int(_ name: String, default fallback: Int, in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int
    {
        guard let text = values[name], !text.isEmpty else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(
                variable: name,
                message:
                    "expected an integer in \(range.lowerBound)...\(range.upperBound), got \(text.debugDescription)")
        }
        return value
    }

    /// The variable as a boolean (`true/false`, `1/0`, `yes/no`, `on/off`).
    public func bool(_ name: String, default fallback: Bool) throws -> Bool {
        guard let text = values[name]?.lowercased(), !text.isEmpty else { return fallback }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default:
            throw ConfigurationError(variable: name, message: "expected true or false, got \(text.debugDescription)")
        }
    }

    /// The variable as one of a `RawRepresentable` type's values.
    public func value<T: RawRepresentable & CaseIterable>(_ name: String, default fallback: T) throws -> T
    where T.RawValue == String {
        guard let text = values[name], !text.isEmpty else { return fallback }
        guard let value = T(rawValue: text.lowercased()) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError(
                variable: name, message: "expected one of \(allowed), got \(text.debugDescription)")
        }
        return value
    }

    /// The variable as an exact decimal within `range`.
    public func decimal(_ name: String, default fallback: Decimal, in range: ClosedRange<Decimal>) throws -> Decimal {
        guard let text = values[name], !text.isEmpty else { return fallback }
        guard let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")),
            text.allSatisfy({ $0.isNumber || $0 == "." }), range.contains(value)
        else {
            throw ConfigurationError(
                variable: name,
                message: "expected a decimal in \(range.lowerBound)...\(range.upperBound), got \(text.debugDescription)"
            )
        }
        return value
    }
}
