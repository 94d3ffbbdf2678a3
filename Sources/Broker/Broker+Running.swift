import ServiceLifecycle

extension Broker {
    /// Runs the broker while `body` runs, then shuts it down and waits for its connections to
    /// close: for programs and tests that use a broker outside a `ServiceGroup`.
    public func withRunning<T>(_ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.run() }
            let result: Result<T, any Error>
            do {
                result = .success(try await body())
            } catch {
                result = .failure(error)
            }
            await shutdown()
            try await group.waitForAll()
            return try result.get()
        }
    }
}
