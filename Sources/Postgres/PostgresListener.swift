import Logging
import Synchronization

/// Notifications from `LISTEN` on a dedicated connection, as an `AsyncSequence`.
///
/// The listening connection reconnects by itself. PostgreSQL does not replay notifications
/// sent while a session was not listening, so after every (re)connection the sequence yields
/// one notification per channel with `processID` 0: a cue to look at the data again. Use
/// notifications to wake up, with a periodic check as the safety net.
public final class PostgresListener: AsyncSequence, Sendable {
    public typealias Element = PostgresNotification

    private let stream: AsyncStream<PostgresNotification>
    private let task: Mutex<Task<Void, Never>?>

    init(channels: [String], configuration: PostgresClient.Configuration, hub: NotificationHub, logger: Logger) {
        let (stream, continuation) = AsyncStream<PostgresNotification>.makeStream(bufferingPolicy: .bufferingNewest(1024))
        self.stream = stream
        let task = Task {
            await Self.listen(channels: channels, configuration: configuration, logger: logger, continuation: continuation)
        }
        self.task = Mutex(task)
        // The client's own notifications arrive without a round trip through the server.
        let local = hub.add(channels: channels, continuation: continuation)
        continuation.onTermination = { _ in
            hub.remove(local)
            task.cancel()
        }
    }

    /// Stops listening and ends the sequence.
    public func cancel() {
        task.withLock { $0?.cancel() }
    }

    public func makeAsyncIterator() -> AsyncStream<PostgresNotification>.Iterator {
        stream.makeAsyncIterator()
    }

    private static func listen(
        channels: [String], configuration: PostgresClient.Configuration, logger: Logger,
        continuation: AsyncStream<PostgresNotification>.Continuation
    ) async {
        var delay = Duration.milliseconds(100)
        while !Task.isCancelled {
            let connection = PostgresConnection(parameters: configuration.connectionParameters)
            do {
                try await connection.open()
                for channel in channels { try await connection.listen(channel) }
                delay = .milliseconds(100)
                for channel in channels { continuation.yield(PostgresNotification(channel: channel, payload: "", processID: 0)) }
                while !Task.isCancelled {
                    for notification in try await connection.waitForNotifications(timeout: .milliseconds(500)) {
                        continuation.yield(notification)
                    }
                }
            } catch {
                if !Task.isCancelled {
                    logger.warning("LISTEN connection lost; reconnecting", metadata: ["error.message": "\(error)"])
                }
            }
            await connection.close()
            guard !Task.isCancelled else { break }
            try? await Task.sleep(for: delay)
            delay = Swift.min(delay * 2, .seconds(5))
        }
        continuation.finish()
    }
}

extension PostgresClient {
    /// Listens on `channels` over a connection of its own (outside the pool).
    public func listen(_ channels: [String]) -> PostgresListener {
        PostgresListener(channels: channels, configuration: configuration, hub: hub, logger: logger)
    }
}
