import Foundation

/// Checks for text fields of requests, answering with a 422 that names the field.
public enum FieldValidation {
    /// `value` trimmed, required non-empty, at most `maxLength` characters as sent, and
    /// without control characters (line breaks included: these are single-line fields).
    ///
    /// Characters are Unicode code points, as JSON Schema's `maxLength` (the OpenAPI
    /// documents) and PostgreSQL count them.
    public static func text(_ value: String, field: String, maxLength: Int) throws -> String {
        guard value.unicodeScalars.count <= maxLength else {
            throw APIError.invalid(field, "must be at most \(maxLength) characters")
        }
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw APIError.invalid(field, "must not be empty") }
        guard
            !trimmed.unicodeScalars.contains(where: {
                $0.properties.generalCategory == .control
                    || $0.properties.generalCategory == .format && $0.value != 0x200D
            })
        else {
            throw APIError.invalid(field, "must not contain control characters")
        }
        return trimmed
    }

    /// A SKU as catalog-service keeps it: 1–64 of A–Z, 0–9 and `-`, upper-cased, surrounding
    /// spaces trimmed. One rule for the catalog and the orders that name its products. The
    /// letters are checked before upper-casing, which would turn `ß` into `SS`.
    public static func sku(_ text: String, field: String) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard (1...64).contains(trimmed.unicodeScalars.count),
            trimmed.unicodeScalars.allSatisfy({
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
            })
        else {
            throw APIError.invalid(field, "must be 1 to 64 characters of A-Z, 0-9 and -")
        }
        return trimmed.uppercased()
    }

    /// A plausible e-mail address: one `@` with text on both sides and a dot in the domain.
    /// (Real validation is sending mail; this only catches typos and garbage.)
    public static func email(_ value: String, field: String) throws -> String {
        let text = try self.text(value, field: field, maxLength: 254)
        // On code points, not Characters: "." followed by a combining mark is one Character
        // that is not ".", yet it is a dot to a mail server (and to the OpenAPI pattern).
        let scalars = Array(text.unicodeScalars)
        let parts = scalars.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let local = parts.first, let domain = parts.last, !local.isEmpty, domain.contains("."),
            domain.first != ".", domain.last != ".", !scalars.contains(" ")
        else {
            throw APIError.invalid(field, "must be an e-mail address")
        }
        return text
    }
}
