@testable import Broker
import Foundation
import Testing

/// The confirm bookkeeping's answer to nacks: a quorum queue nacks what it could not take
/// while its leader moved, so a nacked message is sent again, not failed.
@Suite(.timeLimit(.minutes(1)))
struct PublisherConfirmsTests {
    static func message(_ id: String) -> OutboundMessage {
        OutboundMessage(exchange: "orders", routingKey: "order.created", properties: MessageProperties(messageID: id), body: Data())
    }

    @Test func aNackedMessageIsSentAgainAndItsRequestSucceedsOnceAcked() async throws {
        let start = ContinuousClock.now
        var confirms = PublisherConfirms()
        var sent: [(tag: UInt64, id: String?)] = []
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let request = confirms.enqueue([Self.message("a"), Self.message("b")], deadline: start + .seconds(30), continuation: continuation)
            sent += confirms.assignTags(to: request).map { ($0.tag, $0.message.properties.messageID) }
            confirms.confirm(upTo: 1, multiple: false, accepted: false)
            confirms.confirm(upTo: 2, multiple: false, accepted: true)
            // Not yet due: the broker is given a moment before the message goes again.
            #expect(confirms.nackedSince != nil)
            #expect(!confirms.nackRetryDue(now: confirms.nackedSince!))
            #expect(confirms.nackRetryDue(now: confirms.nackedSince! + PublisherConfirms.nackRetryDelay))
            for again in confirms.requestsToSend() {
                sent += confirms.assignTags(to: again).map { ($0.tag, $0.message.properties.messageID) }
            }
            #expect(confirms.nackedSince == nil)
            confirms.confirm(upTo: 3, multiple: false, accepted: true)
        }
        #expect(sent.map(\.tag) == [1, 2, 3])
        #expect(sent.map(\.id) == ["a", "b", "a"])
        #expect(confirms.nackCount == 1)
    }

    @Test func aMessageNackedUntilTheDeadlineTimesOut() async throws {
        let start = ContinuousClock.now
        var confirms = PublisherConfirms()
        await #expect(throws: BrokerError.self) {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let request = confirms.enqueue([Self.message("a")], deadline: start + .seconds(1), continuation: continuation)
                _ = confirms.assignTags(to: request)
                confirms.confirm(upTo: 1, multiple: true, accepted: false)
                confirms.expire(now: start + .seconds(2))
            }
        }
    }
}
