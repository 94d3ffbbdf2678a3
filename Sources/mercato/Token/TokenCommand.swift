import ArgumentParser
import Foundation

/// `mercato token`: mints an access token with a local development key.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Mint a bearer token with the development key.",
        discussion: """
            Signs with the HS256 secret the services verify with (--secret-file, else
            AUTH_JWT_SECRET or AUTH_JWT_SECRET_FILE), or with a PEM private key (--key, EC P-256
            or RSA) whose public key the services have in AUTH_JWKS_FILE under --kid.
            Scopes: customers:read customers:write orders:read orders:write invoices:read invoices:write
            mercato:admin (any customer's data). Without mercato:admin, --sub is a customer id.
            Production tokens come from your identity provider, not from this command.
            """)

    @Option(help: "The caller: a customer id, or a name for an admin.") var sub: String
    @Option(help: "Space-separated scopes, or 'admin' (all of them) or 'customer' (all but mercato:admin).") var scope =
        "customer"
    @Option(help: "Seconds the token is valid.") var ttl: Int = 3600
    @Option(help: "A file holding the HS256 secret.") var secretFile: String?
    @Option(help: "A PEM private key file (instead of the HS256 secret).") var key: String?
    @Option(help: "The key id to put in the header (required with --key).") var kid: String?
    @Option(help: "iss.") var issuer = ProcessInfo.processInfo.environment["AUTH_ISSUER"] ?? "mercato"
    @Option(help: "aud.") var audience = ProcessInfo.processInfo.environment["AUTH_AUDIENCE"] ?? "mercato"

    /// Every scope the services know (ServiceKit's `Scope.all`; CommandLineTests keeps the two equal).
    static let adminScopes = [
        "customers:read", "customers:write", "orders:read", "orders:write", "invoices:read", "invoices:write",
        "catalog:write", "mercato:admin",
    ]
    static let customerScopes = [
        "customers:read", "customers:write", "orders:read", "orders:write", "invoices:read", "invoices:write",
    ]

    func validate() throws {
        guard ttl > 0 else { throw ValidationError("--ttl must be positive") }
        if key != nil, kid == nil { throw ValidationError("--key needs --kid: the services pick the public key by it") }
    }

    func run() async throws {
        let scopes: [String] =
            switch scope {
            case "admin": Self.adminScopes
            case "customer": Self.customerScopes
            default: scope.split(separator: " ").map(String.init)
            }
        let minter: TokenMinter
        if let key {
            guard let pem = FileManager.default.contents(atPath: key) else {
                throw ValidationError("cannot read \(key)")
            }
            minter = try await TokenMinter(privateKeyPEM: String(decoding: pem, as: UTF8.self), kid: kid ?? "")
        } else {
            var environment = ProcessInfo.processInfo.environment
            if let secretFile { environment = ["AUTH_JWT_SECRET_FILE": secretFile] }
            guard let secret = try TokenMinter.secretFromEnvironment(environment) else {
                throw ValidationError("no key: pass --secret-file or --key, or set AUTH_JWT_SECRET_FILE")
            }
            minter = await TokenMinter(secret: secret, kid: kid)
        }
        print(
            try await minter.token(
                subject: sub, scopes: scopes, ttl: TimeInterval(ttl), issuer: issuer, audience: audience))
    }
}
