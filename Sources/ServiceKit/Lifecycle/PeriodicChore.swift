public import Logging
public import ServiceLifecycle

/// A database chore run every `interval` until graceful shutdown, starting once the
/// database is migrated: the services' sweepers, reconcilers and publishers.
///
/// Each run calls `round` until it reports nothing left, so a backlog (the service was down
/// past many due dates) drains without waiting an interval per batch. A failing run is
/// logged once per outage and then every 60 failures, not once per interval. With `wakeUp`,
/// the wait between runs also ends when it is signalled.
public struct PeriodicChore: Service {
    private let name: String
    private let readiness: Readiness
    private let interval: Duration
    private let wakeUp: WakeSignal<ContinuousClock>?
    private let logger: Logger
    private let round: @Sendable () async throws -> Bool

    /// Creates the chore; `round` does one batch and returns whether more may be waiting.
    /// `name` says what it does, for the log (e.g. `sweeping overdue orders`).
    public init(
        _ name: String, readiness: Readiness, interval: Duration, wakeUp: WakeSignal<ContinuousClock>? = nil,
        logger: Logger,
        round: @escaping @Sendable () async throws -> Bool
    ) {
        self.name = name
        self.readiness = readiness
        self.interval = interval
        self.wakeUp = wakeUp
        self.logger = logger
        self.round = round
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await readiness.wait(for: [Readiness.database])
            var failures = 0
            while !Task.isCancelled {
                do {
                    while !Task.isCancelled, try await round() {}
                    failures = 0
                } catch {
                    failures += 1
                    if failures % 60 == 1 {
                        logger.warning(
                            "chore failed; retrying",
                            metadata: ["chore": "\(name)", "error.message": "\(error)", "failures": "\(failures)"])
                    }
                }
                if let wakeUp {
                    await wakeUp.wait(timeout: interval)
                } else {
                    try? await Task.sleep(for: interval)
                }
            }
        }
    }
}
