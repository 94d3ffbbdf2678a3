import Foundation
import HTTPTypes
import Hummingbird
import Locking
import MercatoTesting
import ServiceKit
import Testing

/// Bearer-token verification and scope checks, through a router as the services build it.
/// The clock is injected: validity times are checked against `now`, not the machine's time.
@Suite(.timeLimit(.minutes(1)))
struct AuthTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    let tokens = TestTokens()
    let rotated = TestTokens.ECKey(kid: "es-2026-12")
    let retired = TestTokens.ECKey(kid: "es-2026-06")

    /// A router with one route needing `orders:read`, answering the caller's subject.
    func router() async throws -> Router<TestRequestContext> {
        let router = Router(context: TestRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        let access = try await tokens.accessGuard(
            jwks: TestTokens.jwks([rotated.publicJWK, retired.publicJWK]), now: { Self.now })
        access.requiring(.ordersRead, on: router).get("/orders") { _, context in try context.caller.subject }
        router.get("/health/live") { _, _ in "ok" }
        return router
    }

    func claims(_ edit: (inout TestTokens.Claims) -> Void = { _ in }) -> TestTokens.Claims {
        var claims = tokens.claims(sub: "ada", scopes: [.ordersRead], now: Self.now)
        edit(&claims)
        return claims
    }

    enum Expected { case accepted, invalid, insufficientScope }

    /// Every way a token can be wrong, and the right ones.
    func cases() async throws -> [(String, String?, Expected)] {
        let t = Self.now.timeIntervalSince1970
        let rsaLikePublicKey = rotated.publicKeyPEM
        return [
            ("valid HS256", try await tokens.sign(claims()), .accepted),
            ("valid ES256 by kid", try await rotated.sign(claims()), .accepted),
            ("valid ES256, the other key in the set", try await retired.sign(claims()), .accepted),
            ("inside the leeway after exp", try await tokens.sign(claims { $0.exp = t - 20 }), .accepted),
            ("no token", nil, .invalid),
            ("malformed", "not.a.jwt", .invalid),
            ("two parts", "abc.def", .invalid),
            ("expired", try await tokens.sign(claims { $0.exp = t - 120 }), .invalid),
            ("no exp", try await tokens.sign(claims { $0.exp = nil }), .invalid),
            ("not yet valid", try await tokens.sign(claims { $0.nbf = t + 120 }), .invalid),
            ("issued in the future", try await tokens.sign(claims { $0.iat = t + 120 }), .invalid),
            ("wrong issuer", try await tokens.sign(claims { $0.iss = "someone-else" }), .invalid),
            ("no issuer", try await tokens.sign(claims { $0.iss = nil }), .invalid),
            ("wrong audience", try await tokens.sign(claims { $0.aud = ["billing"] }), .invalid),
            ("no subject", try await tokens.sign(claims { $0.sub = nil }), .invalid),
            ("alg none", try await TestTokens.unsigned(claims()), .invalid),
            ("alg none with a known kid", try await TestTokens.unsigned(claims()).replacingKid(rotated.kid), .invalid),
            (
                "HS256 signed with the public key, its kid",
                try await TestTokens.sign(claims(), hmacKey: rsaLikePublicKey, kid: rotated.kid), .invalid
            ),
            (
                "HS256 signed with the public key, no kid",
                try await TestTokens.sign(claims(), hmacKey: rsaLikePublicKey), .invalid
            ),
            ("wrong secret", try await TestTokens.sign(claims(), hmacKey: TestTokens.randomSecret()), .invalid),
            ("unknown kid, our secret", try await tokens.sign(claims(), kid: "not-a-key"), .invalid),
            ("unknown key and kid", try await TestTokens.ECKey(kid: "stranger").sign(claims()), .invalid),
            ("a known kid on another key", try await TestTokens.ECKey(kid: rotated.kid).sign(claims()), .invalid),
            ("tampered payload", try await tokens.sign(claims()).tamperingScope(), .invalid),
            (
                "missing scope", try await tokens.sign(claims { $0.scope = "orders:write invoices:read" }),
                .insufficientScope
            ),
            ("no scope claim", try await tokens.sign(claims { $0.scope = nil }), .insufficientScope),
            (
                "a scope that merely contains the name",
                try await tokens.sign(claims { $0.scope = "orders:readwrite" }), .insufficientScope
            ),
        ]
    }

    @Test func theTokenMatrix() async throws {
        let router = try await router()
        for (name, token, expected) in try await cases() {
            var headers: HTTPFields = [:]
            if let token { headers[.authorization] = "Bearer \(token)" }
            let response = try await router.respond(.get, "/orders", headers: headers)
            let challenge = response.headers[.wwwAuthenticate] ?? ""
            switch expected {
            case .accepted:
                #expect(response.status == .ok, "\(name)")
                #expect(String(decoding: response.body, as: UTF8.self) == "ada", "\(name)")
            case .invalid:
                #expect(response.status == .unauthorized, "\(name)")
                if token == nil {
                    // RFC 6750 3.1: no error attribute when no credentials were sent.
                    #expect(challenge == #"Bearer realm="mercato""#, "\(name)")
                    #expect(response.errorCode == "unauthenticated", "\(name)")
                } else {
                    #expect(challenge == #"Bearer realm="mercato", error="invalid_token""#, "\(name)")
                    // The same words whatever was wrong: nothing for an attacker to learn.
                    #expect(response.errorCode == "invalid_token", "\(name)")
                    #expect(
                        ((response.json as? [String: Any])?["error"] as? [String: Any])?["message"] as? String
                            == "the bearer token is not valid")
                }
            case .insufficientScope:
                #expect(response.status == .forbidden, "\(name)")
                #expect(
                    challenge == #"Bearer realm="mercato", error="insufficient_scope", scope="orders:read""#, "\(name)")
            }
        }
    }

    @Test func otherSchemesAndOpenRoutes() async throws {
        let router = try await router()
        let token = try await tokens.sign(claims())
        #expect(try await router.respond(.get, "/orders", headers: [.authorization: "bearer \(token)"]).status == .ok)
        #expect(
            try await router.respond(.get, "/orders", headers: [.authorization: "Basic YWRhOmFkYQ=="]).status
                == .unauthorized)
        #expect(try await router.respond(.get, "/orders", headers: [.authorization: "Bearer"]).status == .unauthorized)
        // An open route ignores even a bad token.
        #expect(
            try await router.respond(.get, "/health/live", headers: [.authorization: "Bearer nonsense"]).status == .ok)
    }

    @Test func callersOwnTheirCustomerOnly() {
        let ada = UUID()
        let bob = UUID()
        let customer = Caller(subject: ada.uuidString.lowercased(), permissions: Set(Scope.customer), token: "")
        let admin = Caller(subject: "operator", permissions: Set(Scope.all), token: "")
        let stranger = Caller(subject: "not-a-uuid", permissions: Set(Scope.customer), token: "")
        #expect(customer.owns(ada) && !customer.owns(bob))
        #expect(admin.owns(ada) && admin.owns(bob))
        #expect(!stranger.owns(ada))
        #expect(customer.visibility() == .customer(ada) && customer.visibility(asked: ada) == .customer(ada))
        #expect(customer.visibility(asked: bob) == .nothing)
        #expect(admin.visibility() == .all && admin.visibility(asked: bob) == .customer(bob))
        #expect(stranger.visibility() == .nothing && stranger.visibility(asked: ada) == .nothing)
    }

    /// The nil UUID is no customer's id: a token whose `sub` is it is a caller who may see
    /// nothing, like one whose `sub` is no UUID at all.
    @Test func theNilUUIDIsNoCustomer() {
        let nilUUID = UUID(uuidString: "00000000-0000-0000-0000-000000000000")!
        let caller = Caller(subject: nilUUID.uuidString, permissions: Set(Scope.customer), token: "")
        #expect(caller.customerID == nil && !caller.owns(nilUUID))
        #expect(caller.visibility() == .nothing && caller.visibility(asked: nilUUID) == .nothing)
        let admin = Caller(subject: nilUUID.uuidString, permissions: Set(Scope.all), token: "")
        #expect(admin.visibility() == .all, "an admin's sub names no customer, and need not")
    }

    @Test func aServiceWithoutAKeyRefusesToStart() throws {
        #expect { try AuthConfiguration(environment: EnvironmentReader([:])) } throws: {
            "\($0)".contains("AUTH_JWT_SECRET_FILE") && "\($0)".contains("AUTH_JWKS_FILE")
        }
        #expect(throws: ConfigurationError.self) {
            try AuthConfiguration(environment: EnvironmentReader(["AUTH_JWT_SECRET": "short"]))
        }
        let privateKey = #"{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"c","kid":"k","alg":"ES256"}]}"#
        let noAlg = #"{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b","kid":"k"}]}"#
        let symmetric = #"{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"k","alg":"HS256"}]}"#
        for jwks in [privateKey, noAlg, symmetric, "{}", "nonsense"] {
            #expect(throws: ConfigurationError.self, "\(jwks)") { try AuthConfiguration(jwks: jwks).validate() }
        }
        let configuration = try AuthConfiguration(
            environment: EnvironmentReader([
                "AUTH_JWT_SECRET": TestTokens.randomSecret(), "AUTH_ISSUER": "https://id.example.com/",
            ]))
        #expect(
            configuration.issuer == "https://id.example.com/" && configuration.audience == "mercato"
                && configuration.leeway == 30)
    }
}

extension String {
    /// The token with its header's `kid` set to `kid` (signature left as it was).
    func replacingKid(_ kid: String) -> String {
        var parts = split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var header = try! JSONSerialization.jsonObject(with: Data(base64URL: parts[0])) as! [String: Any]
        header["kid"] = kid
        parts[0] = (try! JSONSerialization.data(withJSONObject: header)).base64URL
        return parts.joined(separator: ".")
    }

    /// The token with `mercato:admin` added to its scopes and the signature left as it was.
    func tamperingScope() -> String {
        var parts = split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var payload = try! JSONSerialization.jsonObject(with: Data(base64URL: parts[1])) as! [String: Any]
        payload["scope"] = "orders:read mercato:admin"
        parts[1] = (try! JSONSerialization.data(withJSONObject: payload)).base64URL
        return parts.joined(separator: ".")
    }
}

/// A remembered token is still checked against the clock: remembering saves the signature
/// check, never extends a token's life.
@Suite(.timeLimit(.minutes(1)))
struct TokenMemoryTests {
    @Test func aRememberedTokenExpiresOnTime() async throws {
        let tokens = TestTokens()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let clock = Locked(start)
        let verifier = try await tokens.verifier(now: { clock.withLock { $0 } })
        var claims = tokens.claims(sub: "ada", scopes: [.ordersRead], now: start)
        claims.exp = start.addingTimeInterval(45).timeIntervalSince1970
        let token = try await tokens.sign(claims)
        #expect(try await verifier.verify(token).subject == "ada")
        clock.withLock { $0 = start.addingTimeInterval(60) }
        #expect(try await verifier.verify(token).subject == "ada", "within exp + 30 s of leeway")
        clock.withLock { $0 = start.addingTimeInterval(76) }
        await #expect(throws: TokenVerifier.Failure.self) { try await verifier.verify(token) }
        // Any other byte is verified afresh: a tampered copy of a remembered token is refused.
        clock.withLock { $0 = start }
        let fresh = try await tokens.sign(tokens.claims(sub: "bob", scopes: [.ordersRead], now: start))
        #expect(try await verifier.verify(fresh).subject == "bob")
        await #expect(throws: TokenVerifier.Failure.self) { try await verifier.verify(fresh.tamperingScope()) }
    }
}
