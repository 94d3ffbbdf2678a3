public import Foundation
public import HTTPTypes
public import JWTKit
public import ServiceKit

/// Signs tokens the way an identity provider would, and forges the ones an attacker would:
/// what the auth tests send to the services.
public struct TestTokens: Sendable {
    /// The HS256 secret the services under test verify with.
    public let secret: String
    /// The issuer and audience the services expect.
    public var issuer = "mercato"
    public var audience = "mercato"

    /// Tokens for `secret` (a fresh random one by default).
    public init(secret: String = TestTokens.randomSecret()) {
        self.secret = secret
    }

    /// A guard that verifies with this secret (and `jwks`, if given) against the clock `now`.
    public func accessGuard(jwks: String? = nil, now: @escaping @Sendable () -> Date = { Date() }) async throws
        -> AccessGuard
    {
        AccessGuard(verifier: try await verifier(jwks: jwks, now: now))
    }

    /// A verifier with this secret (and `jwks`, if given) against the clock `now`.
    public func verifier(jwks: String? = nil, now: @escaping @Sendable () -> Date = { Date() }) async throws
        -> TokenVerifier
    {
        try await TokenVerifier(
            configuration: AuthConfiguration(hmacSecret: secret, jwks: jwks, issuer: issuer, audience: audience),
            now: now)
    }

    /// `Authorization: Bearer token`.
    public static func bearer(_ token: String) -> HTTPFields {
        [.authorization: "Bearer \(token)"]
    }

    /// 64 hex characters from the system's random generator.
    public static func randomSecret() -> String {
        (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    /// The claims of a test token; every field may be left out or wrong on purpose.
    public struct Claims: JWTPayload {
        public var iss: String?
        public var aud: [String]?
        public var sub: String?
        public var exp: Double?
        public var nbf: Double?
        public var iat: Double?
        public var scope: String?

        public func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    /// Claims for `sub` with `scopes`, valid for an hour from `now`.
    public func claims(sub: String, scopes: [Scope], now: Date = Date()) -> Claims {
        Claims(
            iss: issuer, aud: [audience], sub: sub, exp: now.addingTimeInterval(3600).timeIntervalSince1970,
            nbf: now.timeIntervalSince1970, iat: now.timeIntervalSince1970,
            scope: scopes.map(\.rawValue).joined(separator: " "))
    }

    /// `claims` signed with the secret (HS256), with `kid` in the header if given.
    public func sign(_ claims: Claims, kid: String? = nil) async throws -> String {
        try await Self.sign(claims, hmacKey: secret, kid: kid)
    }

    /// A valid token for `sub` with `scopes`.
    public func token(sub: String, scopes: [Scope], now: Date = Date()) async throws -> String {
        try await sign(claims(sub: sub, scopes: scopes, now: now))
    }

    /// An operator's token: every scope, `mercato:admin` included.
    public func admin(now: Date = Date()) async throws -> String {
        try await token(sub: "operator", scopes: Scope.all, now: now)
    }

    /// A customer's own token: every scope but `mercato:admin`.
    public func customer(_ id: UUID, now: Date = Date()) async throws -> String {
        try await token(sub: id.uuidString.lowercased(), scopes: Scope.customer, now: now)
    }

    /// `claims` signed with `key` (HS256): a secret the services do not have.
    public static func sign(_ claims: Claims, hmacKey key: String, kid: String? = nil) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: key), digestAlgorithm: .sha256, kid: kid.map { JWKIdentifier(string: $0) })
        return try await keys.sign(claims, kid: kid.map { JWKIdentifier(string: $0) })
    }

    /// `claims` with `alg: none` and no signature.
    public static func unsigned(_ claims: Claims) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.addUnsecuredNone()
        return try await keys.sign(claims)
    }

    /// An ES256 key pair: its JWKS (public key, with `kid` and `alg`) for the services, and a
    /// signer for the tests.
    public struct ECKey: Sendable {
        let key: ES256PrivateKey
        /// The key id.
        public let kid: String

        /// A new random key.
        public init(kid: String) {
            self.key = ES256PrivateKey()
            self.kid = kid
        }

        /// The P-256 private key in `pem`.
        public init(pem: String, kid: String) throws {
            self.key = try ES256PrivateKey(pem: pem)
            self.kid = kid
        }

        /// The public key as one JWK.
        public var publicJWK: [String: String] {
            let parameters = key.publicKey.parameters!
            return [
                "kty": "EC", "crv": "P-256", "x": parameters.x, "y": parameters.y, "kid": kid, "alg": "ES256",
                "use": "sig",
            ]
        }

        /// The public key in PEM form: what an attacker would use as an HMAC secret.
        public var publicKeyPEM: String { key.publicKey.pemRepresentation }

        /// `claims` signed with this key, `kid` in the header.
        public func sign(_ claims: Claims) async throws -> String {
            let keys = JWTKeyCollection()
            await keys.add(ecdsa: key, kid: JWKIdentifier(string: kid))
            return try await keys.sign(claims, kid: JWKIdentifier(string: kid))
        }
    }

    /// An RS256 key pair, made by openssl: what most identity providers sign with.
    public struct RSAKey: Sendable {
        let key: Insecure.RSA.PrivateKey
        /// The key id.
        public let kid: String

        /// A new random 2048-bit key.
        public init(kid: String) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let pem = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            self.key = try Insecure.RSA.PrivateKey(pem: String(decoding: pem, as: UTF8.self))
            self.kid = kid
        }

        /// The public key as one JWK.
        public var publicJWK: [String: String] {
            let (modulus, exponent) = try! key.publicKey.getKeyPrimitives()
            return [
                "kty": "RSA", "n": modulus.base64URL, "e": exponent.base64URL, "kid": kid, "alg": "RS256", "use": "sig",
            ]
        }

        /// The public key in PEM form: the HMAC secret of the RS/HS confusion attack.
        public var publicKeyPEM: String { key.publicKey.pemRepresentation }

        /// `claims` signed with this key, `kid` in the header.
        public func sign(_ claims: Claims) async throws -> String {
            let keys = JWTKeyCollection()
            await keys.add(rsa: key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
            return try await keys.sign(claims, kid: JWKIdentifier(string: kid))
        }
    }

    /// A JWKS document holding the public halves of `keys` (`ECKey`s and `RSAKey`s' `publicJWK`).
    public static func jwks(_ keys: [[String: String]]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: ["keys": keys], options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

extension Data {
    /// Decodes base64url (RFC 7515), with or without padding; traps on anything else (tests
    /// hand it the parts of tokens they made).
    public init(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self = Data(base64Encoded: base64)!
    }

    /// Base64url without padding (RFC 7515).
    public var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
