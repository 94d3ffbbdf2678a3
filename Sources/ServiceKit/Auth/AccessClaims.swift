import Foundation
import JWTKit

/// The claims Mercato reads from an access token.
struct AccessClaims: JWTPayload {
    var iss: IssuerClaim
    var aud: AudienceClaim
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim?
    var iat: IssuedAtClaim?
    /// Space-separated scopes (RFC 8693 `scope`).
    var scope: String?

    /// jwt-kit calls this once the signature holds, with only the key to go on: the
    /// checks need the service's issuer, audience and clock, so ``TokenVerifier`` makes them
    /// with ``check(issuer:audience:now:leeway:)`` right after, before the token is used.
    func verify(using algorithm: some JWTAlgorithm) throws {}

    /// Throws unless the token is meant for this service and valid now. `leeway` forgives
    /// clocks a little apart, in both directions.
    func check(issuer: String, audience: String, now: Date, leeway: TimeInterval) throws {
        try exp.verifyNotExpired(currentDate: now.addingTimeInterval(-leeway))
        try nbf?.verifyNotBefore(currentDate: now.addingTimeInterval(leeway))
        if let iat, iat.value > now.addingTimeInterval(leeway) {
            throw JWTError.claimVerificationFailure(failedClaim: iat, reason: "issued in the future")
        }
        guard iss.value == issuer else {
            throw JWTError.claimVerificationFailure(failedClaim: iss, reason: "unexpected issuer")
        }
        try aud.verifyIntendedAudience(includes: audience)
        guard !sub.value.isEmpty else {
            throw JWTError.claimVerificationFailure(failedClaim: sub, reason: "empty subject")
        }
    }

    /// The scopes, split on spaces.
    var scopes: Set<Scope> {
        Set((scope ?? "").split(separator: " ").map { Scope(rawValue: String($0)) })
    }
}
