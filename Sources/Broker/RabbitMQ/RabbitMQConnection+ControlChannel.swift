import Foundation
import IOThread

/// Channel 1, the control channel: the synchronous methods (declarations, passive
/// inspections) that any connection of the broker may run for it.
extension RabbitMQConnection {
    /// Declares `topology` now (waiting for the connection if needed) and remembers it for
    /// every future reconnection of every connection of the broker.
    func declare(_ topology: Topology) async throws {
        try await onControlChannel { handle in
            try self.declare(topology, using: handle)
            self.topologies.add(topology)
        }
    }

    /// A queue's counts, by a passive declaration on the control channel.
    func inspect(queue: String) async throws -> QueueStatus {
        try await onControlChannel { handle in
            let (messages, consumers) = try handle.inspect(queue: queue, on: Self.controlChannel)
            return QueueStatus(messageCount: Int(messages), consumerCount: Int(consumers))
        }
    }

    /// Runs a synchronous method on the control channel, waiting for the connection (until
    /// the publish timeout) and trying again on a new one if it breaks. A refusal by the
    /// broker (e.g. 406 PRECONDITION_FAILED, 404) closes only the control channel: it is
    /// reopened and the error thrown.
    private func onControlChannel<T>(_ body: (AMQPConnectionHandle) throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + configuration.publishTimeout
        while true {
            try await waitForConnection(until: deadline)
            guard let handle else { continue }
            do {
                let result = try body(handle)
                // rabbitmq-c may have queued other channels' frames while it waited for the
                // replies; serve() must look at them rather than wait for the socket.
                executor.interruptWait()
                return result
            } catch let error as BrokerError where error.code == .channelClosed {
                do {
                    try handle.openChannel(Self.controlChannel)
                } catch {
                    fail(error)
                }
                executor.interruptWait()
                throw error
            } catch {
                fail(error)
                if ContinuousClock.now >= deadline { throw error }
                // Let serve() see the failure and drop the connection before trying again:
                // until it has, the broken connection still looks up, and retrying at once
                // would spin on it (and keep serve() from running) until the deadline.
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    func declare(_ topology: Topology, using handle: AMQPConnectionHandle) throws {
        for exchange in topology.exchanges {
            try handle.declare(exchange, on: Self.controlChannel)
        }
        for queue in topology.queues {
            try handle.declare(queue, on: Self.controlChannel)
        }
        for binding in topology.bindings {
            try handle.bind(binding, on: Self.controlChannel)
        }
    }
}
