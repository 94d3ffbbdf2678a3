import Contracts
import Foundation
import Locking
public import Logging

/// Writes one JSON object per line to standard output, for log collectors in containers:
/// `{"timestamp": …, "level": …, "service": …, "message": …, <metadata>}`.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    /// Creates a handler for the logger labelled `label`; `metadataProvider` adds metadata
    /// from the task's context (the trace id) to every line.
    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: Any] = [
            "timestamp": EventCoding.formatTimestamp(Date()),
            "level": event.level.rawValue,
            "service": label,
            "message": event.message.description,
        ]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided, uniquingKeysWith: { $1 }) }
        if let own = event.metadata { merged.merge(own, uniquingKeysWith: { $1 }) }
        for (key, value) in merged {
            object[key] = Self.plain(value)
        }
        if let error = event.error { object["error.message"] = "\(error)" }
        guard
            var line = try? JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return }
        line.append(0x0A)
        Self.output.withLock { _ in
            FileHandle.standardOutput.write(line)
        }
    }

    private static let output = Locked(())

    private static func plain(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let value): return value.description
        case .array(let values): return values.map(plain)
        case .dictionary(let values): return values.mapValues(plain)
        }
    }
}
