import Testing

@testable import Postgres

@Suite(.timeLimit(.minutes(1)))
struct NotificationHubTests {
    @Test func notifyThrottlesOnlyTheServerRoundTrip() {
        let hub = NotificationHub(remoteInterval: .milliseconds(100))
        let start = ContinuousClock.now
        #expect(hub.isRemoteNotificationDue("a", now: start))
        hub.remoteNotificationDelivered("a", now: start)
        #expect(!hub.isRemoteNotificationDue("a", now: start + .milliseconds(50)))
        #expect(hub.isRemoteNotificationDue("b", now: start + .milliseconds(50)))
        #expect(hub.isRemoteNotificationDue("a", now: start + .milliseconds(101)))
    }
}
