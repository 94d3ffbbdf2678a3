import Testing

@testable import Broker

/// The connection's life as the state machine decides it: nodes in turn, a backoff that
/// doubles per failed attempt and resets after a connection, generations that move on with
/// every connection, and a close that stops everything in any state.
@Suite(.timeLimit(.minutes(1)))
struct ConnectionStateMachineTests {
    static func machine(nodes: Int = 3, firstNode: Int = 0) -> ConnectionStateMachine {
        ConnectionStateMachine(
            nodeCount: nodes, firstNode: firstNode, initialDelay: .milliseconds(100), maximumDelay: .seconds(1))
    }

    @Test func itConnectsOnceStartedAndOnlyOnce() {
        var machine = Self.machine()
        #expect(machine.waitAction == .wait)
        #expect(machine.start() == .connect)
        #expect(machine.state == .connecting(attempt: 0))
        #expect(machine.start() == .stop)
        machine.connected()
        #expect(machine.isConnected)
        #expect(machine.waitAction == .proceed)
    }

    @Test func failedAttemptsDoubleTheBackoffUpToTheMaximumAndTryTheNextNode() {
        var machine = Self.machine(firstNode: 1)
        _ = machine.start()
        var delays: [Duration] = []
        var nodes: [Int] = []
        for _ in 0..<6 {
            guard case .reconnect(let delay) = machine.connectionEnded(jitter: 1) else {
                Issue.record("expected a reconnection")
                return
            }
            delays.append(delay)
            #expect(machine.backoffEnded() == .connect)
            nodes.append(machine.node)
        }
        #expect(
            delays == [
                .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1),
                .seconds(1),
            ])
        #expect(nodes == [2, 0, 1, 2, 0, 1])
        #expect(machine.generation == 6)
    }

    @Test func aConnectionThatWasUpStartsTheBackoffAfreshScaledByTheJitter() {
        var fresh = Self.machine()
        _ = fresh.start()
        _ = fresh.connectionEnded(jitter: 1)
        _ = fresh.backoffEnded()
        _ = fresh.connectionEnded(jitter: 1)
        _ = fresh.backoffEnded()
        fresh.connected()
        #expect(fresh.connectionEnded(jitter: 0.5) == .reconnect(after: .milliseconds(50)))
        #expect(fresh.state == .waitingToReconnect(attempt: 1))
    }

    @Test func closingBeforeTheStartFinishesAtOnceAndNothingStartsAfter() {
        var machine = Self.machine()
        #expect(machine.close() == .finishNow)
        #expect(machine.state == .finished)
        #expect(machine.start() == .stop)
        #expect(machine.waitAction == .fail)
        #expect(machine.close() == .none)
    }

    @Test(arguments: ["connecting", "connected", "waiting"])
    func closingWhileRunningWaitsForTheRunAndStopsIt(at stage: String) {
        var machine = Self.machine()
        _ = machine.start()
        switch stage {
        case "connected": machine.connected()
        case "waiting": _ = machine.connectionEnded(jitter: 1)
        default: break
        }
        let generation = machine.generation
        #expect(machine.close() == .waitForRun)
        #expect(machine.isClosing)
        #expect(machine.waitAction == .fail)
        // The run loop ends what it was doing: no reconnection follows.
        if stage == "waiting" {
            #expect(machine.backoffEnded() == .stop)
        } else {
            #expect(machine.connectionEnded(jitter: 1) == .stop)
            #expect(machine.generation == generation + 1)
        }
        #expect(machine.close() == .waitForRun)
        machine.runEnded()
        #expect(machine.state == .finished)
        #expect(machine.close() == .none)
    }
}
