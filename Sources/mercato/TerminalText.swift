/// Text from a message — its id, type, headers, body — made safe to print on the operator's
/// terminal. Whoever published the message chose those bytes, and an escape sequence printed
/// as it is would be obeyed by the terminal: retitle it, clear or rewrite what it shows,
/// reverse the text around it.
enum TerminalText {
    /// `text` with every control character (C0, DEL, C1), every invisible format character
    /// (bidirectional overrides and isolates, zero-width ones), the line and paragraph
    /// separators and the backslash written as Swift escapes (`\u{1B}`, `\n`, `\\`), so what
    /// is printed is exactly what the message holds and nothing else. With `keepingNewlines`,
    /// `\n` stays a line break (a body of several lines).
    static func escaped(_ text: String, keepingNewlines: Bool = false) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\n" where keepingNewlines: escaped.unicodeScalars.append(scalar)
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default:
                switch scalar.properties.generalCategory {
                case .control, .format, .lineSeparator, .paragraphSeparator:
                    escaped += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
                default:
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped
    }
}
