/// Bookkeeping for publisher confirms on one channel, which rabbitmq-c 0.11 leaves to us.
///
/// After `confirm.select` the broker numbers the channel's publishes 1, 2, 3… and later acks
/// or nacks them, singly or up to a tag (`multiple`), in batches and not necessarily in
/// order. A mandatory message that matched no queue is first returned (`basic.return`, which
/// carries no tag, so it is matched by message id), then acked. A publish request completes
/// when every one of its messages has an outcome.
///
/// When the connection is lost, messages without an outcome go back to waiting and are sent
/// again on the next connection: at-least-once, which consumers absorb through their inbox.
/// A nacked message goes back to waiting too: a quorum queue nacks what it could not take
/// while its leader moved or its members lost their majority, which a moment later it
/// takes. It is sent again after ``nackRetryDelay``, doubling, up to ``nackRetries`` times
/// (about 6 s in all, longer than a leader election); a message nacked once more than that
/// fails as ``BrokerError/Code/nacked`` (a full `reject-publish` queue, say), and the
/// caller's own retry takes over.
struct PublisherConfirms {
    typealias RequestID = UInt64

    private enum MessageState {
        case waiting
        case inFlight(tag: UInt64)
        case done
    }

    private struct Request {
        let messages: [OutboundMessage]
        var states: [MessageState]
        var remaining: Int
        var returned: [Int: String] = [:]
        var failures: [BrokerError.Failure] = []
        /// Nacks so far, by message index.
        var nacks: [Int: Int] = [:]
        /// When a nacked message may be sent again, by message index.
        var notBefore: [Int: ContinuousClock.Instant] = [:]
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private var requests: [RequestID: Request] = [:]
    private var nextRequestID: RequestID = 0
    /// Tag → (request, index of the message in it).
    private var inFlight: [UInt64: (request: RequestID, index: Int)] = [:]
    private var nextTag: UInt64 = 1
    /// No tag below this one is still in flight.
    private var lowestTag: UInt64 = 1
    /// When the next nacked message is due to be sent again.
    private(set) var nextNackRetry: ContinuousClock.Instant?
    /// How long a message nacked once waits before it is sent again (doubling for each
    /// further nack): long enough not to spin against a broker that keeps refusing.
    static let nackRetryDelay: Duration = .milliseconds(200)
    /// How many times a nacked message is sent again before it fails.
    static let nackRetries = 5
    /// Nacks seen on this channel, for tests and logs.
    private(set) var nackCount = 0

    /// Registers a publish; its messages wait until ``assignTags(to:)``.
    mutating func enqueue(
        _ messages: [OutboundMessage], deadline: ContinuousClock.Instant,
        continuation: CheckedContinuation<Void, any Error>
    ) -> RequestID {
        nextRequestID += 1
        requests[nextRequestID] = Request(
            messages: messages, states: Array(repeating: .waiting, count: messages.count), remaining: messages.count,
            deadline: deadline, continuation: continuation)
        return nextRequestID
    }

    /// Gives the waiting messages of `id` the next delivery tags, in order, and returns them
    /// for sending.
    mutating func assignTags(to id: RequestID, now: ContinuousClock.Instant = .now) -> [(
        tag: UInt64, message: OutboundMessage
    )] {
        guard var request = requests[id] else { return [] }
        var assigned: [(tag: UInt64, message: OutboundMessage)] = []
        for index in request.states.indices {
            guard case .waiting = request.states[index] else { continue }
            // A nacked message not due yet waits for a later round.
            if let due = request.notBefore[index] {
                guard due <= now else { continue }
                request.notBefore[index] = nil
            }
            let tag = nextTag
            nextTag += 1
            request.states[index] = .inFlight(tag: tag)
            inFlight[tag] = (id, index)
            assigned.append((tag, request.messages[index]))
        }
        requests[id] = request
        return assigned
    }

    /// Whether a nacked message is due to be sent again.
    func nackRetryDue(now: ContinuousClock.Instant) -> Bool {
        nextNackRetry.map { $0 <= now } ?? false
    }

    /// Requests with messages waiting to be sent, oldest first. A nacked message among them
    /// is sent by ``assignTags(to:now:)`` only once it is due; ``nextNackRetry`` says when the
    /// first of those left waiting will be.
    mutating func requestsToSend(now: ContinuousClock.Instant = .now) -> [RequestID] {
        nextNackRetry = nil
        for request in requests.values {
            for due in request.notBefore.values where due > now {
                nextNackRetry = min(nextNackRetry ?? due, due)
            }
        }
        return requests.filter { _, request in
            request.states.contains { if case .waiting = $0 { return true } else { return false } }
        }.keys.sorted()
    }

    /// Applies a `basic.ack` (`accepted`) or `basic.nack` for `tag`, or with `multiple` for
    /// every tag up to it.
    mutating func confirm(upTo tag: UInt64, multiple: Bool, accepted: Bool, now: ContinuousClock.Instant = .now) {
        if multiple {
            var current = lowestTag
            while current <= tag {
                settle(current, accepted: accepted, now: now)
                current += 1
            }
        } else {
            settle(tag, accepted: accepted, now: now)
        }
        while lowestTag < nextTag, inFlight[lowestTag] == nil { lowestTag += 1 }
    }

    private mutating func settle(_ tag: UInt64, accepted: Bool, now: ContinuousClock.Instant) {
        guard let (id, index) = inFlight.removeValue(forKey: tag), var request = requests[id] else { return }
        if !accepted {
            nackCount += 1
            let nacks = request.nacks[index, default: 0] + 1
            if nacks <= Self.nackRetries {
                // Sent again once its delay has passed; the deadline still bounds it.
                let due = now + Self.nackRetryDelay * (1 << (nacks - 1))
                request.states[index] = .waiting
                request.returned[index] = nil
                request.nacks[index] = nacks
                request.notBefore[index] = due
                requests[id] = request
                nextNackRetry = min(nextNackRetry ?? due, due)
                return
            }
        }
        request.states[index] = .done
        request.remaining -= 1
        let message = request.messages[index]
        if !accepted {
            request.failures.append(
                .init(
                    messageID: message.displayID, code: .nacked,
                    reason: "the broker nacked the message \(Self.nackRetries + 1) times"))
        } else if let reason = request.returned[index] {
            request.failures.append(.init(messageID: message.displayID, code: .unroutable, reason: reason))
        }
        requests[id] = request
        completeIfDone(id)
    }

    /// Records a `basic.return`: the in-flight message it matches (by message id, else by
    /// exchange and routing key; the lowest tag first, as returns arrive in publish order)
    /// will fail as unroutable when its ack arrives.
    mutating func markReturned(messageID: String?, exchange: String, routingKey: String, reason: String) {
        for tag in inFlight.keys.sorted() {
            guard let (id, index) = inFlight[tag], var request = requests[id], request.returned[index] == nil else {
                continue
            }
            let message = request.messages[index]
            let matches =
                messageID.map { $0 == message.properties.messageID }
                ?? (message.exchange == exchange && message.routingKey == routingKey)
            guard matches else { continue }
            request.returned[index] = reason
            requests[id] = request
            return
        }
    }

    /// The connection is gone: in-flight messages have no confirm coming, so they wait to be
    /// sent again; tags restart at 1 on the next channel.
    mutating func connectionLost() {
        for (tag, entry) in inFlight {
            guard var request = requests[entry.request] else { continue }
            if case .inFlight(tag) = request.states[entry.index] {
                request.states[entry.index] = .waiting
                request.returned[entry.index] = nil
                requests[entry.request] = request
            }
        }
        resetTags()
    }

    /// The broker closed the publishing channel: messages in flight on it fail with `error`
    /// (the broker refused something among them, and which one is unknowable).
    mutating func failInFlight(_ error: BrokerError) {
        for (_, entry) in inFlight {
            guard var request = requests[entry.request] else { continue }
            let message = request.messages[entry.index]
            request.states[entry.index] = .done
            request.remaining -= 1
            request.failures.append(.init(messageID: message.displayID, code: error.code, reason: error.message))
            requests[entry.request] = request
        }
        let affected = Set(inFlight.values.map(\.request))
        resetTags()
        for id in affected { completeIfDone(id) }
    }

    /// Fails every request whose deadline has passed with ``BrokerError/Code/timeout``.
    mutating func expire(now: ContinuousClock.Instant) {
        for (id, request) in requests where request.deadline <= now {
            requests[id] = nil
            for index in request.states.indices {
                if case .inFlight(let tag) = request.states[index] { inFlight[tag] = nil }
            }
            request.continuation.resume(
                throwing: BrokerError(
                    .timeout, "\(request.remaining) of \(request.messages.count) messages unconfirmed in time",
                    messageID: request.messages.first?.displayID))
        }
    }

    /// Fails every request with `error` (shutdown).
    mutating func failAll(_ error: BrokerError) {
        let all = requests
        requests.removeAll()
        inFlight.removeAll()
        for (_, request) in all { request.continuation.resume(throwing: error) }
    }

    private mutating func resetTags() {
        inFlight.removeAll()
        nextTag = 1
        lowestTag = 1
    }

    private mutating func completeIfDone(_ id: RequestID) {
        guard let request = requests[id], request.remaining == 0 else { return }
        requests[id] = nil
        if request.failures.isEmpty {
            request.continuation.resume()
        } else {
            let count = request.failures.count
            request.continuation.resume(
                throwing: BrokerError(
                    .publishFailed,
                    "\(count) of \(request.messages.count) messages were not accepted: "
                        + request.failures.prefix(3).map { "\($0.messageID): \($0.reason)" }.joined(separator: "; "),
                    messageID: request.failures.first?.messageID, failures: request.failures))
        }
    }
}
