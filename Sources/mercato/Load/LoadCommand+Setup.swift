import Foundation
import NIOCore
import NIOHTTP1

/// What a load run creates before it places orders: its customers and its products.
extension LoadCommand {
    /// Creates the run's customers (unique e-mail addresses per run).
    func createCustomers(_ service: HTTPConnection) async throws -> [String] {
        let run = UUID().uuidString.prefix(8).lowercased()
        return try await service.withConnection { send in
            var ids: [String] = []
            for index in 0..<customers {
                let body = [
                    "name": "Load Customer \(index)", "email": "load-\(run)-\(index)@example.com",
                    "address": "Bench Street \(index)",
                ]
                let response = try await send(
                    .POST, "/customers", ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
                guard response.status == 201, let id = response.json()?["id"] as? String else {
                    throw ValidationFailure(
                        "POST /customers answered \(response.status): \(String(buffer: response.body))")
                }
                ids.append(id)
            }
            return ids
        }
    }

    /// The run's products: a few with more stock than any run orders (the catalog prices
    /// every line, so a load orders real SKUs), and with `--scarce` one of that many units.
    struct Products: Sendable {
        var plentiful: [String]
        var scarce: String?
    }

    /// Creates the run's products.
    func createProducts(_ service: HTTPConnection) async throws -> Products {
        let run = UUID().uuidString.prefix(8).uppercased()
        return try await service.withConnection { send in
            func create(_ sku: String, _ name: String, price: String, stock: Int) async throws {
                let body: [String: Any] = ["sku": sku, "name": name, "price": price, "stock_on_hand": stock]
                let response = try await send(
                    .POST, "/products", ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
                guard response.status == 201 else {
                    throw ValidationFailure(
                        "POST /products answered \(response.status): \(String(buffer: response.body))")
                }
            }
            var products = Products(plentiful: [])
            for (index, price) in ["1.10", "2.35", "3.99"].enumerated() {
                products.plentiful.append("LOAD-\(run)-\(index)")
                try await create(products.plentiful[index], "Load item \(index)", price: price, stock: 1_000_000_000)
            }
            if scarce > 0 {
                products.scarce = "LOAD-\(run)-SCARCE"
                try await create(products.scarce!, "Scarce load item", price: "9.50", stock: scarce)
            }
            return products
        }
    }
}
