public import Hummingbird

extension Request {
    /// The `Idempotency-Key` header, if sent: 1–255 visible ASCII characters, or a 400 naming it.
    public func idempotencyKey() throws -> String? {
        guard let key = headers[.idempotencyKey] else { return nil }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw APIError.badParameter("Idempotency-Key", "Idempotency-Key must be 1-255 visible ASCII characters")
        }
        return key
    }
}
