import Foundation

/// A client of a Server-Sent Events stream: `curl -N` writing what it receives to a file,
/// which the test reads as it grows. curl is a real, independent HTTP client (chunked
/// encoding, keep-alive); a client that stops reading is a few lines of Python.
final class EventStreamClient: Sendable {
    /// One event (or comment) as received.
    struct Event: Sendable, Hashable {
        var id: String?
        var event: String?
        var data: String?
        var comment: String?

        /// The data as JSON.
        var json: [String: Any] {
            (data.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String: Any]) ?? [:]
        }
        var sequence: Int? { id.flatMap { Int($0) } }
    }

    private let process: Process
    private let body: URL
    private let head: URL

    /// Opens `url` with `headers`. With `stopReadingAfter`, a client that reads that many bytes
    /// through a 4 KB socket receive buffer (curl cannot shrink its buffer) and then reads
    /// nothing more until the server drops the connection: however fast or slow the server
    /// writes, its writes wait once the socket buffers between them are full.
    init(url: String, headers: [String: String], stopReadingAfter: Int? = nil) throws {
        let directory = FileManager.default.temporaryDirectory
        body = directory.appendingPathComponent("sse-\(UUID().uuidString).txt")
        head = directory.appendingPathComponent("sse-\(UUID().uuidString).head")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        if let stopReadingAfter {
            let components = URLComponents(string: url)!
            let request =
                ([
                    "GET \(components.percentEncodedPath)\(components.percentEncodedQuery.map { "?" + $0 } ?? "") HTTP/1.1",
                    "Host: 127.0.0.1",
                ]
                + headers.map { "\($0.key): \($0.value)" }).joined(separator: "\r\n") + "\r\n\r\n"
            process.arguments = [
                "python3", "-c", Self.stoppingReader, String(components.port!), request, head.path, body.path,
                String(stopReadingAfter),
            ]
        } else {
            var arguments = ["curl", "-sN", "--max-time", "600", "-D", head.path, "-o", body.path]
            for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
            process.arguments = arguments + [url]
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    deinit { stop() }

    /// Reads a chunked HTTP/1.1 response and writes its head and de-chunked body; after its
    /// first `stop` bytes it waits, reading nothing, until the connection is reset or closed
    /// (poll reports that without reading), then reads what its buffer still holds.
    private static let stoppingReader = """
        import select, socket, sys
        port, request, head_path, body_path, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        s.sendall(request.encode())
        buf = b""
        read = 0
        def more():
            global buf, read
            if read >= stop:
                # Nothing is read until the connection is reset or closed, which poll reports
                # (POLLERR and POLLHUP always count) without taking data from the buffer.
                poller = select.poll()
                poller.register(s, select.POLLRDHUP)
                while not poller.poll(): pass
                read = float("-inf")
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                sys.exit(0)
            if not data: sys.exit(0)
            buf += data
            read += len(data)
        while b"\\r\\n\\r\\n" not in buf: more()
        head, buf = buf.split(b"\\r\\n\\r\\n", 1)
        open(head_path, "wb").write(head + b"\\r\\n")
        body = open(body_path, "ab")
        while True:
            while b"\\r\\n" not in buf: more()
            line, buf = buf.split(b"\\r\\n", 1)
            size = int(line.split(b";")[0], 16)
            if size == 0: sys.exit(0)
            while len(buf) < size + 2: more()
            body.write(buf[:size]); body.flush()
            buf = buf[size + 2:]
        """

    /// Whether the server ended the stream (or curl gave up).
    var hasEnded: Bool { !process.isRunning }

    /// The response's status, once its head arrived.
    var status: Int? {
        guard let text = try? String(contentsOf: head, encoding: .utf8), let line = text.split(separator: "\r\n").first
        else { return nil }
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }

    /// The response's headers, lowercased names.
    var headers: [String: String] {
        guard let text = try? String(contentsOf: head, encoding: .utf8) else { return [:] }
        var headers: [String: String] = [:]
        for line in text.split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        return headers
    }

    /// Every complete event (and comment) received so far, in order.
    var received: [Event] {
        let text = (try? String(contentsOf: body, encoding: .utf8)) ?? ""
        var blocks = text.components(separatedBy: "\n\n")
        blocks.removeLast()  // incomplete, or empty after the last blank line
        return blocks.map { block in
            var event = Event()
            for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix(": ") { event.comment = String(line.dropFirst(2)) }
                if line.hasPrefix("id: ") { event.id = String(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { event.event = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { event.data = (event.data.map { $0 + "\n" } ?? "") + line.dropFirst(6) }
            }
            return event
        }
    }

    /// The events with an id (changes), leaving out comments and summaries.
    var changes: [Event] { received.filter { $0.id != nil } }

    /// Waits until `condition` holds for what was received, failing after `timeout`.
    @discardableResult
    func waitFor(
        _ what: String, timeout: Duration = .seconds(90), _ condition: ([Event]) -> Bool
    ) async throws -> [Event] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let events = received
            if condition(events) { return events }
            try await Task.sleep(for: .milliseconds(100))
        }
        let events = received
        throw SystemTestFailure(
            "timed out waiting for \(what); status \(status.map(String.init) ?? "none"), \(events.count) received, last: \(events.suffix(3))"
        )
    }

    /// Waits until the server ends the stream.
    func waitForEnd(timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                throw SystemTestFailure("the stream did not end within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Closes the stream.
    func stop() {
        if process.isRunning {
            // SIGKILL: a child of the test process inherits a signal mask that blocks SIGTERM.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: body)
        try? FileManager.default.removeItem(at: head)
    }
}
