/// AMQP topic-exchange matching: routing keys and patterns are dot-separated words; in a
/// pattern `*` stands for exactly one word and `#` for zero or more.
package struct TopicPattern: Hashable, Sendable {
    private let words: [Substring]

    /// Parses `pattern`, e.g. `order.*` or `#.created`.
    package init(_ pattern: String) {
        words = pattern.split(separator: ".", omittingEmptySubsequences: false)
    }

    /// Whether `routingKey` matches.
    package func matches(_ routingKey: String) -> Bool {
        let key = routingKey.split(separator: ".", omittingEmptySubsequences: false)
        return Self.match(words[...], key[...])
    }

    private static func match(_ pattern: ArraySlice<Substring>, _ key: ArraySlice<Substring>) -> Bool {
        guard let first = pattern.first else { return key.isEmpty }
        if first == "#" {
            let rest = pattern.dropFirst()
            // `#` takes zero words, or one word and stays.
            return match(rest, key) || (!key.isEmpty && match(pattern, key.dropFirst()))
        }
        guard let word = key.first else { return false }
        return (first == "*" || first == word) && match(pattern.dropFirst(), key.dropFirst())
    }
}
