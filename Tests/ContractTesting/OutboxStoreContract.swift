import Contracts
import Foundation
import Locking
import MercatoTesting
package import ServiceKit
import Testing

/// An outbox store under test, with a way to add messages and to let time pass.
package struct OutboxStoreSubject: Sendable {
    /// The store.
    package var store: any OutboxStore
    /// Adds messages as a repository's transaction does.
    package var append: @Sendable ([OutboxMessage]) async throws -> Void
    /// Lets enough time pass that every refused message is due again. Until it is called,
    /// no refused message may become due, however slowly the check runs: a subject stops its
    /// clock or lengthens its backoff.
    package var letBackoffPass: @Sendable () async throws -> Void

    /// Creates the subject.
    package init(
        store: any OutboxStore, append: @escaping @Sendable ([OutboxMessage]) async throws -> Void,
        letBackoffPass: @escaping @Sendable () async throws -> Void
    ) {
        self.store = store
        self.append = append
        self.letBackoffPass = letBackoffPass
    }
}

/// What every ``OutboxStore`` does — PostgreSQL's and the in-memory one alike.
package enum OutboxStoreContract {
    /// An `order.created` for the outbox, created `age` seconds ago.
    package static func message(age: Double = 0) throws -> OutboxMessage {
        try EventStamp(serviceName: "tests").message(
            OrderCreated(orderID: UUID(), customerID: UUID(), items: [], total: .zero, createdAt: Date()),
            time: millisecondNow(plus: -age),
            traceparent: testTraceparent)
    }

    /// What one relay pass was handed, answering `outcome` for it.
    static func relay(
        _ store: any OutboxStore, limit: Int = 100, outcome: @escaping @Sendable ([OutboxMessage]) -> PublishOutcome
    ) async throws -> [OutboxMessage] {
        let handed = Locked<[OutboxMessage]>([])
        _ = try await store.relay(limit: limit) { messages in
            handed.withLock { $0 += messages }
            return outcome(messages)
        }
        return handed.withLock { $0 }
    }

    static let confirmAll: @Sendable ([OutboxMessage]) -> PublishOutcome = { PublishOutcome(confirmed: $0.map(\.id)) }

    /// Every check.
    package static let checks: [ContractCheck<OutboxStoreSubject>] = [
        ContractCheck("a relay gets the messages oldest first, at most its limit, and confirmed ones are gone") {
            subject in
            let messages = try (0..<5).map { _ in try message() }
            for message in messages { try await subject.append([message]) }
            let first = try await relay(subject.store, limit: 3, outcome: confirmAll)
            #expect(first.map(\.id) == messages.prefix(3).map(\.id))
            let (read, written) = (try #require(first.first), messages[0])
            #expect(
                read.id == written.id && read.eventType == written.eventType && read.exchange == written.exchange
                    && read.body == written.body
                    && read.traceparent == written.traceparent && read.appID == written.appID
                    && sameInstant(read.createdAt, written.createdAt),
                "every field comes back as written")
            let second = try await relay(subject.store, limit: 3, outcome: confirmAll)
            #expect(second.map(\.id) == messages.suffix(2).map(\.id))
            #expect(try await relay(subject.store, outcome: confirmAll).isEmpty)
            #expect(try await subject.store.backlog().count == 0)
        },
        ContractCheck("a refused message waits out a backoff while the others go on") { subject in
            let (refused, fine, later) = (try message(), try message(), try message())
            try await subject.append([refused, fine])
            _ = try await relay(subject.store) { messages in
                PublishOutcome(
                    confirmed: messages.map(\.id).filter { $0 != refused.id }, refused: [refused.id: "NO_ROUTE"])
            }
            try await subject.append([later])
            #expect(
                try await relay(subject.store, outcome: confirmAll).map(\.id) == [later.id],
                "the refused message came back at once")
            #expect(try await subject.store.backlog().count == 1)
            try await subject.letBackoffPass()
            #expect(try await relay(subject.store, outcome: confirmAll).map(\.id) == [refused.id])
            #expect(try await subject.store.backlog().count == 0)
        },
        ContractCheck("messages whose outcome is unknown stay as they were, due at once") { subject in
            let messages = try (0..<3).map { _ in try message() }
            try await subject.append(messages)
            let handed = try await relay(subject.store) { _ in
                PublishOutcome(confirmed: [], transientFailure: "connection lost")
            }
            #expect(handed.count == 3)
            #expect(try await relay(subject.store, outcome: confirmAll).map(\.id) == messages.map(\.id))
        },
        ContractCheck("the backlog counts unpublished messages and the age of the oldest") { subject in
            #expect(try await subject.store.backlog().count == 0)
            try await subject.append([try message(age: 600), try message(age: 1)])
            let backlog = try await subject.store.backlog()
            #expect(backlog.count == 2)
            // A subject's clock may be stopped a little before the messages were made, or run
            // on past them: a minute either way (the suites' time limit) still passes.
            #expect(backlog.oldestAgeSeconds >= 540 && backlog.oldestAgeSeconds < 3600, "\(backlog.oldestAgeSeconds)")
        },
        ContractCheck("two relays at once never get the same message") { subject in
            let messages = try (0..<4).map { _ in try message() }
            try await subject.append(messages)
            let holding = OneShot()
            let release = OneShot()
            let first = Task {
                let handed = Locked<[String]>([])
                _ = try await subject.store.relay(limit: 2) { batch in
                    handed.withLock { $0 = batch.map(\.id) }
                    holding.fire()
                    try? await release.wait("the second relay", timeout: .seconds(20))
                    return PublishOutcome(confirmed: batch.map(\.id))
                }
                return handed.withLock { $0 }
            }
            try await holding.wait("the first relay to hold its batch")
            let second = try await relay(subject.store, limit: 10, outcome: confirmAll).map(\.id)
            release.fire()
            let firstIDs = try await first.value
            #expect(Set(firstIDs).isDisjoint(with: second))
            #expect(Set(firstIDs + second) == Set(messages.map(\.id)))
        },
    ]
}
