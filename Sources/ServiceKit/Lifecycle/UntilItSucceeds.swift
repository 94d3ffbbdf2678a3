import Logging
import ServiceLifecycle

/// Runs `operation` until it succeeds or the service stops (graceful shutdown or
/// cancellation), waiting 250 ms after the first failure and twice as long after each next
/// one, up to 5 s: how a service brings up a dependency that may not be there yet. Each
/// failure is logged as "`what` not ready; retrying". Returns whether it succeeded.
@discardableResult
func untilItSucceeds(_ what: String, logger: Logger, _ operation: () async throws -> Void) async -> Bool {
    var delay = Duration.milliseconds(250)
    while !Task.isShuttingDownGracefully && !Task.isCancelled {
        do {
            try await operation()
            return true
        } catch {
            logger.warning(
                "\(what) not ready; retrying", metadata: ["error.message": "\(error)", "retry.delay": "\(delay)"])
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
    }
    return false
}
