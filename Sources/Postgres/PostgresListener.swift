import Logging
public import ServiceLifecycle
import Synchronization

/// Notifications from `LISTEN` on a dedicated connection, as an `AsyncSequence` for one
/// reader.
///
/// It is a `Service`: creating it connects nothing and starts no task. ``run()`` opens the
/// listening connection, reconnects with backoff whenever it breaks, and returns on graceful
/// shutdown or cancellation, which ends the sequence. PostgreSQL does not replay
/// notifications sent while a session was not listening, so after every (re)connection the
/// sequence yields one notification per channel with `processID` 0: a cue to look at the
/// data again. Use notifications to wake up, with a periodic check as the safety net.
///
/// The client's own notifications (``PostgresConnection/notify(_:)`` on a connection of the
/// same client) reach the sequence at commit without a round trip through the server, even
/// before `run()` connects.
public final class PostgresListener: AsyncSequence, Service, Sendable {
    public typealias Element = PostgresNotification

    private let channels: [String]
    private let configuration: PostgresClient.Configuration
    private let hub: NotificationHub
    private let logger: Logger
    private let stream: AsyncStream<PostgresNotification>
    private let continuation: AsyncStream<PostgresNotification>.Continuation
    private let local: UInt64

    init(channels: [String], configuration: PostgresClient.Configuration, hub: NotificationHub, logger: Logger) {
        self.channels = channels
        self.configuration = configuration
        self.hub = hub
        self.logger = logger
        (stream, continuation) = AsyncStream<PostgresNotification>.makeStream(bufferingPolicy: .bufferingNewest(1024))
        local = hub.add(channels: channels, continuation: continuation)
    }

    deinit {
        hub.remove(local)
        continuation.finish()
    }

    public func makeAsyncIterator() -> AsyncStream<PostgresNotification>.Iterator {
        stream.makeAsyncIterator()
    }

    /// Listens until graceful shutdown or cancellation, then ends the sequence.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.listen()
        }
        hub.remove(local)
        continuation.finish()
    }

    private func listen() async {
        var delay = Duration.milliseconds(100)
        while !Task.isCancelled {
            let connection = PostgresConnection(parameters: configuration.connectionParameters)
            do {
                try await connection.open()
                for channel in channels { try await connection.listen(channel) }
                delay = .milliseconds(100)
                for channel in channels {
                    continuation.yield(PostgresNotification(channel: channel, payload: "", processID: 0))
                }
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
    }
}

extension PostgresClient {
    /// A listener on `channels` over a connection of its own (outside the pool); it listens
    /// while its ``PostgresListener/run()`` runs.
    public func listen(_ channels: [String]) -> PostgresListener {
        PostgresListener(channels: channels, configuration: configuration, hub: hub, logger: logger)
    }
}
