import Locking
public import Logging

/// A log handler that keeps what is logged, so a test can wait for a component to say that
/// something happened (a refusal, a retry) instead of sleeping and assuming it did.
public final class LogRecording: Sendable {
    /// One logged line.
    public struct Entry: Sendable {
        /// The level it was logged at.
        public var level: Logger.Level
        /// The message and its metadata, as one string to search in.
        public var text: String
    }

    private let entries = Locked([Entry]())

    /// Creates an empty recording.
    public init() {}

    /// A logger that records into this recording at `level` and above.
    public func logger(label: String = "recorded", level: Logger.Level = .info) -> Logger {
        var logger = Logger(label: label) { _ in Handler(recording: self) }
        logger.logLevel = level
        return logger
    }

    /// What was logged so far.
    public var all: [Entry] { entries.withLock { $0 } }

    /// Waits until an entry satisfies `predicate`; throws a ``TestFailure`` naming `what`
    /// after `timeout`.
    public func waitFor(
        _ what: String, timeout: Duration = .seconds(60), _ predicate: @escaping @Sendable (Entry) -> Bool
    ) async throws {
        try await waitUntil(what, timeout: timeout) { self.all.contains(where: predicate) }
    }

    fileprivate func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }

    private struct Handler: LogHandler {
        let recording: LogRecording
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            let text = ([event.message.description] + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
                .joined(separator: " ")
            recording.append(Entry(level: event.level, text: text))
        }
    }
}
