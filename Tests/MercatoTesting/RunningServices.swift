public import ServiceLifecycle

/// Runs `services` while `body` runs, then cancels them and waits for them to return: for a
/// test that needs a listener or a relay running beside it, without a `ServiceGroup`.
public func withRunning<T>(_ services: [any Service], _ body: () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for service in services { group.addTask { try await service.run() } }
        let result: Result<T, any Error>
        do {
            result = .success(try await body())
        } catch {
            result = .failure(error)
        }
        group.cancelAll()
        while (try? await group.next()) != nil {}
        return try result.get()
    }
}
