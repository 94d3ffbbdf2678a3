import Foundation

/// Checks for text fields of requests, answering with a 422 that names the field.
public enum FieldValidation {
    /// `value` trimmed, required non-empty, at most `maxLength` characters, and without
    /// control characters (line breaks included: these are single-line fields).
    public static func text(_ value: String, field: String, maxLength: Int) throws -> String {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw APIError.invalid(field, "must not be empty") }
        guard trimmed.count <= maxLength else { throw APIError.invalid(field, "must be at most \(maxLength) characters") }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format && $0.value != 0x200D }) else {
            throw APIError.invalid(field, "must not contain control characters")
        }
        return trimmed
    }

    /// A plausible e-mail address: one `@` with text on both sides and a dot in the domain.
    /// (Real validation is sending mail; this only catches typos and garbage.)
    public static func email(_ value: String, field: String) throws -> String {
        let text = try self.text(value, field: field, maxLength: 254)
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            !text.contains(" ")
        else {
            throw APIError.invalid(field, "must be an e-mail address")
        }
        return text
    }
}
