public import Hummingbird

/// `GET /openapi.json`: the service's OpenAPI 3.1 document, as checked in beside its routes
/// (and tested against them).
public enum OpenAPIRoute {
    /// Adds the endpoint serving `document` (UTF-8 JSON).
    public static func add<Context: RequestContext>(to router: Router<Context>, document: [UInt8]) {
        router.get("/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: document)))
        }
    }
}
