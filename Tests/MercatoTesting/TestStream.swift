import Foundation
public import HTTPTypes
import Hummingbird
import Locking
public import Logging
import NIOCore

/// A response whose body is still being written, read as it grows: a stream (Server-Sent
/// Events) opened in process. ``stop()`` ends it as a client going away would: the task
/// writing the body is cancelled.
public final class TestStream: Sendable {
    /// The status, known as soon as the route answered.
    public let status: HTTPResponse.Status
    /// The headers.
    public let headers: HTTPFields
    private let written: Locked<Data>
    private let writing: Task<Void, Never>

    init(status: HTTPResponse.Status, headers: HTTPFields, written: Locked<Data>, writing: Task<Void, Never>) {
        self.status = status
        self.headers = headers
        self.written = written
        self.writing = writing
    }

    deinit { writing.cancel() }

    /// The body written so far.
    public var text: String { String(decoding: written.withLock { $0 }, as: UTF8.self) }

    /// Waits until the body written so far satisfies `condition`, failing after `timeout`.
    @discardableResult
    public func waitFor(
        _ what: String, timeout: Duration = .seconds(60), _ condition: @escaping @Sendable (String) -> Bool
    ) async throws -> String {
        try await waitUntil(what, timeout: timeout) { condition(self.text) }
        return text
    }

    /// Ends the stream as a client going away would, and waits until its body stopped.
    public func stop(timeout: Duration = .seconds(60)) async throws {
        writing.cancel()
        let writing = self.writing
        try await withDeadline(timeout, "the stream to stop") { await writing.value }
    }
}

extension RouterClient {
    /// Sends one request and returns as soon as the route answered, writing the body in a
    /// task of its own: for responses that stream.
    public func open(
        _ method: HTTPRequest.Method, _ path: String, headers: HTTPFields = [:], logger: Logger = Logger(label: "tests")
    ) async throws -> TestStream {
        let head = HTTPRequest(
            method: method, scheme: "http", authority: "localhost", path: path, headerFields: headers)
        let response = try await responder.respond(
            to: Request(head: head, body: RequestBody(buffer: ByteBuffer())), context: makeContext(logger))
        let written = Locked(Data())
        let body = response.body
        let writing = Task {
            _ = try? await body.write(RecordingWriter(target: written))
        }
        return TestStream(status: response.status, headers: response.headers, written: written, writing: writing)
    }
}

/// Appends what a response body writes to `target`.
private struct RecordingWriter: ResponseBodyWriter {
    let target: Locked<Data>

    mutating func write(_ buffer: ByteBuffer) async throws {
        target.withLock { $0.append(contentsOf: buffer.readableBytesView) }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
