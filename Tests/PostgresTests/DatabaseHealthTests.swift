import Testing

@testable import Postgres

@Suite(.timeLimit(.minutes(1)))
struct DatabaseHealthTests {
    @Test func aDatabaseThatAnsweredRecentlyIsReadyAndAStaleOrFailedOneIsNot() {
        let health = DatabaseHealth()
        let now = ContinuousClock.now
        #expect(!health.isHealthy(maximumAge: .seconds(5), now: now), "never succeeded")
        health.succeeded(at: now)
        #expect(health.isHealthy(maximumAge: .seconds(5), now: now + .seconds(4)))
        #expect(!health.isHealthy(maximumAge: .seconds(5), now: now + .seconds(6)), "stale")
        health.failed()
        #expect(!health.isHealthy(maximumAge: .seconds(5), now: now + .seconds(1)), "failed since")
    }
}
