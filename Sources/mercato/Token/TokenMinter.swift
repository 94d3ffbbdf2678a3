import Foundation
import JWTKit

/// Signs access tokens with a development key: the shared HS256 secret, or a PEM private key
/// (RS256 or ES256) whose public half the services read from a JWKS file.
struct TokenMinter {
    /// The claims of a Mercato access token.
    struct Claims: JWTPayload {
        var iss: IssuerClaim
        var aud: AudienceClaim
        var sub: SubjectClaim
        var exp: ExpirationClaim
        var nbf: NotBeforeClaim
        var iat: IssuedAtClaim
        var scope: String

        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    private let keys = JWTKeyCollection()
    private let kid: JWKIdentifier?

    /// A minter with the HS256 `secret`; `kid`, if given, goes into the header.
    init(secret: String, kid: String? = nil) async {
        self.kid = kid.map { JWKIdentifier(string: $0) }
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: self.kid)
    }

    /// A minter with the PEM private key `pem` (EC P-256 → ES256, RSA → RS256) and its `kid`.
    init(privateKeyPEM pem: String, kid: String) async throws {
        self.kid = JWKIdentifier(string: kid)
        if let key = try? ES256PrivateKey(pem: pem) {
            await keys.add(ecdsa: key, kid: self.kid)
        } else if let key = try? Insecure.RSA.PrivateKey(pem: pem) {
            await keys.add(rsa: key, digestAlgorithm: .sha256, kid: self.kid)
        } else {
            throw ValidationFailure("the private key is neither an EC P-256 nor an RSA key in PEM form")
        }
    }

    /// A signed token for `subject` with `scopes`, valid from now for `ttl` seconds.
    func token(
        subject: String, scopes: [String], ttl: TimeInterval, issuer: String = "mercato", audience: String = "mercato",
        now: Date = Date()
    ) async throws -> String {
        let claims = Claims(
            iss: IssuerClaim(value: issuer), aud: AudienceClaim(value: [audience]), sub: SubjectClaim(value: subject),
            exp: ExpirationClaim(value: now.addingTimeInterval(ttl)), nbf: NotBeforeClaim(value: now),
            iat: IssuedAtClaim(value: now),
            scope: scopes.joined(separator: " "))
        return try await keys.sign(claims, kid: kid)
    }

    /// The HS256 secret from the services' own variables: `AUTH_JWT_SECRET`, or the file
    /// `AUTH_JWT_SECRET_FILE` names.
    static func secretFromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> String?
    {
        if let secret = environment["AUTH_JWT_SECRET"], !secret.isEmpty { return secret }
        guard let path = environment["AUTH_JWT_SECRET_FILE"], !path.isEmpty else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationFailure("cannot read AUTH_JWT_SECRET_FILE \(path)")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
    }
}
