public import Foundation

/// How a service verifies bearer tokens: which keys, and which issuer and audience it trusts.
/// There is no setting that turns verification off.
public struct AuthConfiguration: Sendable {
    /// `AUTH_JWT_SECRET` (or a file named by `AUTH_JWT_SECRET_FILE`): a shared HS256 secret of
    /// at least 32 bytes. It verifies tokens that name no `kid` (and tokens whose `kid` is
    /// `AUTH_JWT_SECRET_KID`, when that is set). Default unset.
    public var hmacSecret: String?
    /// `AUTH_JWT_SECRET_KID`: the `kid` the secret answers to besides none. Default unset.
    public var hmacKeyID: String?
    /// `AUTH_JWKS_FILE`: a JSON Web Key Set of public keys (RS256, ES256, EdDSA…), each with its
    /// `kid` and `alg`; tokens are verified with the key their `kid` names, so keys rotate by
    /// adding the new one before tokens use it. Default unset.
    public var jwks: String?
    /// `AUTH_ISSUER`: the `iss` a token must carry. Default `mercato`.
    public var issuer: String
    /// `AUTH_AUDIENCE`: a value the token's `aud` must contain. Default `mercato`.
    public var audience: String
    /// `AUTH_LEEWAY_SECONDS`: how far apart the issuer's clock and ours may be when checking
    /// `exp`, `nbf` and `iat`. Default 30.
    public var leeway: TimeInterval

    /// Creates a configuration from values (tests, tools).
    public init(
        hmacSecret: String? = nil, hmacKeyID: String? = nil, jwks: String? = nil, issuer: String = "mercato",
        audience: String = "mercato", leeway: TimeInterval = 30
    ) {
        self.hmacSecret = hmacSecret
        self.hmacKeyID = hmacKeyID
        self.jwks = jwks
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
    }

    /// Reads the `AUTH_*` variables; throws if no key is configured or one is unusable.
    public init(environment: EnvironmentReader) throws {
        let secret = try environment.secret("AUTH_JWT_SECRET", default: "")
        let jwksPath = environment.string("AUTH_JWKS_FILE", default: "")
        var jwks: String?
        if !jwksPath.isEmpty {
            guard let data = FileManager.default.contents(atPath: jwksPath) else {
                throw ConfigurationError(
                    variable: "AUTH_JWKS_FILE", message: "cannot read \(jwksPath.debugDescription)")
            }
            jwks = String(decoding: data, as: UTF8.self)
        }
        self.init(
            hmacSecret: secret.isEmpty ? nil : secret,
            hmacKeyID: environment.string("AUTH_JWT_SECRET_KID", default: "").nonEmpty,
            jwks: jwks,
            issuer: environment.string("AUTH_ISSUER", default: "mercato"),
            audience: environment.string("AUTH_AUDIENCE", default: "mercato"),
            leeway: TimeInterval(try environment.int("AUTH_LEEWAY_SECONDS", default: 30, in: 0...600)))
        try validate()
    }

    /// Refuses configurations that would verify nothing or verify unsafely.
    public func validate() throws {
        guard hmacSecret != nil || jwks != nil else {
            throw ConfigurationError(
                variable: "AUTH_JWT_SECRET",
                message:
                    "no key to verify bearer tokens with: set AUTH_JWT_SECRET_FILE (or AUTH_JWT_SECRET) to an HS256 secret of at least 32 bytes, and/or AUTH_JWKS_FILE to a JWKS of public keys"
            )
        }
        if let hmacSecret, hmacSecret.utf8.count < 32 {
            throw ConfigurationError(
                variable: "AUTH_JWT_SECRET",
                message: "an HS256 secret must be at least 32 bytes (256 bits); got \(hmacSecret.utf8.count)")
        }
        if let jwks {
            try Self.checkKeySet(jwks)
        }
    }

    /// Every key must name its `kid` (tokens pick keys by it) and its `alg` (the algorithm comes
    /// from the key, never from the token's header), and must be a public key type.
    static func checkKeySet(_ json: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let keys = object["keys"] as? [[String: Any]], !keys.isEmpty
        else {
            throw ConfigurationError(
                variable: "AUTH_JWKS_FILE",
                message: "expected a JSON Web Key Set: {\"keys\": [...]} with at least one key")
        }
        for (index, key) in keys.enumerated() {
            guard let kid = key["kid"] as? String, !kid.isEmpty else {
                throw ConfigurationError(variable: "AUTH_JWKS_FILE", message: "key \(index) has no \"kid\"")
            }
            guard let alg = key["alg"] as? String,
                ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"].contains(alg)
            else {
                throw ConfigurationError(
                    variable: "AUTH_JWKS_FILE",
                    message: "key \(kid.debugDescription) needs an asymmetric \"alg\" (RS256, ES256, EdDSA, …)")
            }
            guard key["d"] == nil, key["k"] == nil else {
                throw ConfigurationError(
                    variable: "AUTH_JWKS_FILE",
                    message: "key \(kid.debugDescription) holds private material; publish public keys only")
            }
        }
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
