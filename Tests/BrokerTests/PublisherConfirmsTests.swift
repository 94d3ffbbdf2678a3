import Foundation
import Testing

@testable import Broker

/// The confirm bookkeeping's answer to nacks: a quorum queue nacks what it could not take
/// while its leader moved, so a nacked message is sent again a few times, with growing
/// delays, before it fails. Time is passed in, never read.
@Suite(.timeLimit(.minutes(1)))
struct PublisherConfirmsTests {
    static func message(_ id: String) -> OutboundMessage {
        OutboundMessage(
            exchange: "orders", routingKey: "order.created", properties: MessageProperties(messageID: id), body: Data())
    }

    @Test func aNackedMessageIsSentAgainOnceDueAndItsRequestSucceedsWhenAcked() async throws {
        let start = ContinuousClock.now
        var confirms = PublisherConfirms()
        var sent: [(tag: UInt64, id: String?)] = []
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let request = confirms.enqueue(
                [Self.message("a"), Self.message("b")], deadline: start + .seconds(30), continuation: continuation)
            sent += confirms.assignTags(to: request, now: start).map { ($0.tag, $0.message.properties.messageID) }
            confirms.confirm(upTo: 1, multiple: false, accepted: false, now: start)
            confirms.confirm(upTo: 2, multiple: false, accepted: true, now: start)
            // Not yet due: the broker is given a moment before the message goes again.
            #expect(!confirms.nackRetryDue(now: start + .milliseconds(100)))
            for early in confirms.requestsToSend(now: start + .milliseconds(100)) {
                #expect(confirms.assignTags(to: early, now: start + .milliseconds(100)).isEmpty)
            }
            let due = start + PublisherConfirms.nackRetryDelay
            #expect(confirms.nackRetryDue(now: due))
            for again in confirms.requestsToSend(now: due) {
                sent += confirms.assignTags(to: again, now: due).map { ($0.tag, $0.message.properties.messageID) }
            }
            #expect(!confirms.nackRetryDue(now: due))
            confirms.confirm(upTo: 3, multiple: false, accepted: true, now: due)
        }
        #expect(sent.map(\.tag) == [1, 2, 3])
        #expect(sent.map(\.id) == ["a", "b", "a"])
        #expect(confirms.nackCount == 1)
    }

    @Test func aMessageNackedTooOftenFailsAsNackedAfterGrowingDelays() async throws {
        var now = ContinuousClock.now
        var confirms = PublisherConfirms()
        var delays: [Duration] = []
        var tag: UInt64 = 0
        let error = await #expect(throws: BrokerError.self) {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let request = confirms.enqueue(
                    [Self.message("a")], deadline: now + .seconds(60), continuation: continuation)
                tag = confirms.assignTags(to: request, now: now).last?.tag ?? 0
                for _ in 0...PublisherConfirms.nackRetries {
                    confirms.confirm(upTo: tag, multiple: false, accepted: false, now: now)
                    guard let next = confirms.nextNackRetry else { break }
                    delays.append(next - now)
                    now = next
                    for again in confirms.requestsToSend(now: now) {
                        tag = confirms.assignTags(to: again, now: now).last?.tag ?? tag
                    }
                }
            }
        }
        #expect(error?.code == .publishFailed)
        #expect(error?.failures.map(\.code) == [.nacked])
        #expect(delays == (0..<PublisherConfirms.nackRetries).map { PublisherConfirms.nackRetryDelay * (1 << $0) })
    }

    @Test func aMessageNackedUntilTheDeadlineTimesOut() async throws {
        let start = ContinuousClock.now
        var confirms = PublisherConfirms()
        let error = await #expect(throws: BrokerError.self) {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let request = confirms.enqueue(
                    [Self.message("a")], deadline: start + .seconds(1), continuation: continuation)
                _ = confirms.assignTags(to: request, now: start)
                confirms.confirm(upTo: 1, multiple: true, accepted: false, now: start)
                confirms.expire(now: start + .seconds(2))
            }
        }
        #expect(error?.code == .timeout)
    }
}
