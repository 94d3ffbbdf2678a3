/// One Server-Sent Event, or a comment, in the `text/event-stream` format (WHATWG HTML,
/// "Server-sent events").
struct ServerSentEvent: Sendable, Hashable {
    /// `id:`: what the client sends back as `Last-Event-ID` when it reconnects.
    var id: String?
    /// `event:`: the event's type (the client's `message` when absent).
    var event: String?
    /// `data:`: one line per line of text.
    var data: String?
    /// A comment line (`: …`), which clients ignore: heartbeats.
    var comment: String?
    /// `retry:`: how long a client waits before reconnecting, in milliseconds.
    var retryMilliseconds: Int?

    /// The event as it goes on the wire, ending with the blank line that dispatches it.
    var text: String {
        var text = ""
        if let comment { text += ": \(Self.oneLine(comment))\n" }
        if let retryMilliseconds { text += "retry: \(retryMilliseconds)\n" }
        if let id { text += "id: \(Self.oneLine(id))\n" }
        if let event { text += "event: \(Self.oneLine(event))\n" }
        if let data {
            for line in data.split(separator: "\n", omittingEmptySubsequences: false) { text += "data: \(line)\n" }
        }
        return text + "\n"
    }

    /// A field that cannot hold a line break: one would end the field early.
    private static func oneLine(_ value: String) -> String {
        String(value.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}
