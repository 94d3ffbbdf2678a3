public import Foundation

/// The JSON encoders and decoders for events: RFC 3339 timestamps with milliseconds, sorted
/// keys (stable bytes, readable diffs) and exact decimals.
public enum EventCoding {
    /// A new encoder with Mercato's settings. Encoders are not thread-safe to configure, so each
    /// caller gets its own.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(formatTimestamp(date))
        }
        return encoder
    }

    /// A new decoder with Mercato's settings; accepts timestamps with or without fractions and
    /// with any UTC offset.
    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parseTimestamp(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "not an RFC 3339 timestamp: \(text.prefix(40))")
            }
            return date
        }
        return decoder
    }

    /// Parses an RFC 3339 timestamp such as `2026-11-24T10:00:00.123Z` or `…+01:00`.
    public static func parseTimestamp(_ text: String) -> Date? {
        (try? timestampStyle.parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
    }

    /// Formats a date as an RFC 3339 UTC timestamp with milliseconds, rounded to the nearest
    /// millisecond (Foundation's style truncates, so `.456` read back as `.45599…` would
    /// print as `.455`).
    public static func formatTimestamp(_ date: Date) -> String {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        let whole = Date(timeIntervalSince1970: (milliseconds / 1000).rounded(.down))
        let fraction = Int(milliseconds - (milliseconds / 1000).rounded(.down) * 1000)
        let text = whole.formatted(secondsStyle)
        let padded = String(fraction + 1000).dropFirst()
        return text.dropLast() + "." + padded + "Z"
    }

    private static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let secondsStyle = Date.ISO8601FormatStyle()
}
