import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `GET` on another Mercato service with the caller's own bearer token and a short timeout:
/// what order-service's directories ask customer-service and catalog-service when a replica
/// lacks something. Forwarding the caller's token (as eShop forwards the user's) lets the
/// other service decide what this caller may see.
struct PeerServiceClient: Sendable {
    private let baseURL: URL
    private let session: URLSession

    /// A client of the service at `baseURL`, giving up after `timeout`.
    init(baseURL: URL, timeout: Duration) {
        self.baseURL = baseURL
        let configuration = URLSessionConfiguration.ephemeral
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        configuration.timeoutIntervalForRequest = seconds
        configuration.timeoutIntervalForResource = seconds
        self.session = URLSession(configuration: configuration)
    }

    /// The body and status of `GET /<path…>`, each component escaped.
    func get(_ path: [String], token: String) async throws -> (data: Data, status: Int) {
        let url = path.reduce(baseURL) { $0.appendingPathComponent($1) }
        var request = URLRequest(url: url)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await session.data(for: request)
        return (data, (response as? HTTPURLResponse)?.statusCode ?? 0)
    }
}
