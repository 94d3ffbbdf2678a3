public import Foundation
import JWTKit
import Locking
import Logging

/// Verifies bearer tokens with jwt-kit: the signature with the key the token's `kid` names
/// (or the shared secret for tokens without one), then issuer, audience and validity times.
///
/// A client sends the same token with every request for as long as it lives, so a verified
/// token is remembered, by its exact text, for up to a minute and never past its `exp` (plus
/// leeway): what the signature check costs per request (two JSON decodes, an HMAC or an RSA
/// verification) is paid about once a minute per client instead. A token that differs in any
/// byte is verified afresh.
public struct TokenVerifier: Sendable {
    /// Why a token was refused: for logs at `debug`, never for the client.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        /// What was wrong.
        public var description: String
    }

    private let keys: JWTKeyCollection
    private let keyIDs: Set<String>
    private let configuration: AuthConfiguration
    private let now: @Sendable () -> Date
    private let verified = Locked<[String: (caller: Caller, until: Date)]>([:])

    /// How long a verified token is remembered at most.
    static let rememberFor: TimeInterval = 60
    /// Tokens remembered at most; beyond, the expired are dropped, then all if need be.
    static let rememberedTokens = 10_000

    /// Loads the configured keys; `now` is the clock validity times are checked against.
    public init(configuration: AuthConfiguration, now: @escaping @Sendable () -> Date = { Date() }) async throws {
        try configuration.validate()
        let keys = JWTKeyCollection()
        var keyIDs = Set<String>()
        if let secret = configuration.hmacSecret {
            // Added without a kid, it is the collection's default key: tokens naming no kid.
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            if let kid = configuration.hmacKeyID {
                await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
                keyIDs.insert(kid)
            }
        }
        if let jwks = configuration.jwks {
            let set = try JSONDecoder().decode(JWKS.self, from: Data(jwks.utf8))
            for jwk in set.keys {
                guard let kid = jwk.keyIdentifier else { continue }
                _ = try await keys.add(jwk: jwk, isDefault: false)
                keyIDs.insert(kid.string)
            }
        }
        self.keys = keys
        self.keyIDs = keyIDs
        self.configuration = configuration
        self.now = now
    }

    /// The caller the token vouches for; throws ``Failure`` for any token that is not
    /// well-formed, correctly signed by a configured key, meant for us and valid now.
    public func verify(_ token: String) async throws -> Caller {
        let now = now()
        if let known = verified.withLock({ $0[token] }), now < known.until { return known.caller }
        let (caller, expiry) = try await verifyAfresh(token, now: now)
        let until = min(expiry.addingTimeInterval(configuration.leeway), now.addingTimeInterval(Self.rememberFor))
        verified.withLock { remembered in
            if remembered.count >= Self.rememberedTokens {
                remembered = remembered.filter { now < $0.value.until }
                if remembered.count >= Self.rememberedTokens { remembered.removeAll(keepingCapacity: true) }
            }
            remembered[token] = (caller, until)
        }
        return caller
    }

    private func verifyAfresh(_ token: String, now: Date) async throws -> (Caller, expiry: Date) {
        let header: JWTHeader
        do {
            header = try DefaultJWTParser().parse([UInt8](token.utf8), as: AccessClaims.self).header
        } catch {
            throw Failure(description: "malformed: \(error)")
        }
        // jwt-kit falls back to the default key for a kid it does not know: refuse instead,
        // so a kid always means exactly one key.
        if let kid = header.kid {
            guard keyIDs.contains(kid) else { throw Failure(description: "unknown kid") }
        } else {
            // The secret is the collection's default key (added without a kid).
            guard configuration.hmacSecret != nil else {
                throw Failure(description: "no kid, and no key for tokens without one")
            }
        }
        let claims: AccessClaims
        do {
            claims = try await keys.verify(token, as: AccessClaims.self)
            try claims.check(
                issuer: configuration.issuer, audience: configuration.audience, now: now, leeway: configuration.leeway)
        } catch {
            throw Failure(description: "\(error)")
        }
        return (Caller(subject: claims.sub.value, permissions: claims.scopes, token: token), claims.exp.value)
    }
}
