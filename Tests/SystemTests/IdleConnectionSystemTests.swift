import Foundation
import MercatoTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `HTTP_IDLE_TIMEOUT_SECONDS` against the real services: a connection that says nothing, or
/// stops in the middle of its request's head, or idles after a response, is closed by the
/// server; a live stream that writes less often than that is not.
@Suite(.needsSystem, .systemSlot, .serialized, .timeLimit(.minutes(10)))
struct IdleConnectionSystemTests {
    /// Short enough for a test, long enough for the services' own requests (the test's
    /// keep-alive connections are closed at least this often).
    static let idleTimeout = 2

    @Test func idleAndHalfSentConnectionsAreClosedAndAStreamIsNot() async throws {
        // Heartbeats further apart than the idle timeout: the stream writes nothing for longer
        // than a connection may idle, and reads nothing ever after its request.
        let system = try await MercatoSystem.start(environment: [
            "HTTP_IDLE_TIMEOUT_SECONDS": String(Self.idleTimeout), "ORDER_STREAM_HEARTBEAT_SECONDS": "5",
        ])
        let stream = try EventStreamClient(
            url: "http://127.0.0.1:\(system.ports[.order]!)/orders/stream",
            headers: ["Authorization": "Bearer \(system.adminToken)"])
        defer { stream.stop() }
        try await stream.waitFor("the stream's greeting", timeout: .seconds(30)) { !$0.isEmpty }

        var connections: [(String, RawConnection)] = []
        for service in MercatoSystem.Service.allCases {
            let port = system.ports[service]!
            for index in 0..<5 {
                connections.append(("\(service.rawValue): silent connection \(index)", try RawConnection(port: port)))
            }
            let partial = try RawConnection(port: port)
            partial.send("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            connections.append(("\(service.rawValue): half a request head", partial))
            let kept = try RawConnection(port: port)
            kept.send("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            connections.append(("\(service.rawValue): idle after a response", kept))
        }
        let start = ContinuousClock.now
        for (what, connection) in connections {
            let closedAfter = await connection.waitForClose(until: start + .seconds(Self.idleTimeout + 10))
            #expect(closedAfter != nil, "\(what): still open \(Self.idleTimeout + 10) s later")
            if let closedAfter {
                #expect(closedAfter >= .seconds(1), "\(what): closed after \(closedAfter), before any idle timeout")
            }
            if what.hasSuffix("after a response") {
                #expect(connection.received.hasPrefix("HTTP/1.1 200"), "\(what): \(connection.received)")
            }
        }

        // Past several idle timeouts, the stream is open and live.
        try await Task.sleep(until: start + .seconds(3 * Self.idleTimeout + 1))
        #expect(!stream.hasEnded, "the stream was closed as idle")
        let (status, order) = try await system.placeOrder(
            customer: OrderFlowSystemTests.seeds[0], items: [("Tea", 1, "1.00")])
        try #require(status == 201, "\(order)")
        let id = try #require(order["id"] as? String)
        try await stream.waitFor("the new order on the stream", timeout: .seconds(30)) { events in
            events.contains { $0.event == "order.created" && $0.json["id"] as? String == id }
        }
        #expect(!stream.hasEnded)
        await system.shutdown()
    }
}

/// A TCP connection the test writes byte by byte, to see when the server closes it.
final class RawConnection {
    private let descriptor: Int32
    private let opened = ContinuousClock.now
    /// What the server sent so far.
    private(set) var received = ""

    /// Connects to `port` on loopback.
    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            close(descriptor)
            throw SystemTestFailure("cannot connect to 127.0.0.1:\(port): errno \(errno)")
        }
    }

    deinit { close(descriptor) }

    /// Writes `text`.
    func send(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer {
            Glibc.send(descriptor, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL))
        }
    }

    /// Reads what arrives until the server closes the connection (end of stream or reset);
    /// returns how long after connecting that was, or nil if it is still open at `deadline`.
    func waitForClose(until deadline: ContinuousClock.Instant) async -> Duration? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        // At least one look, however late: what arrived is read even past the deadline.
        repeat {
            let count = buffer.withUnsafeMutableBytes {
                recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
            }
            if count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                return ContinuousClock.now - opened
            }
            if count > 0 {
                received += String(decoding: buffer[0..<count], as: UTF8.self)
                continue
            }
            try? await Task.sleep(for: .milliseconds(50))
        } while ContinuousClock.now < deadline
        return nil
    }
}
