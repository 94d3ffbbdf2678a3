import Contracts

/// The products a new installation starts with, so the walkthrough can order by SKU at once;
/// the last one has little stock, to show a refusal and a replenishment.
package enum CatalogSeeds {
    /// The seeded products.
    package static let products = [
        NewProduct(
            sku: "TEA-EARLGREY-100G", name: "Earl Grey tea, 100 g", price: Money("4.20")!, stockOnHand: 500,
            reorderPoint: 50, reorderQuantity: 200),
        NewProduct(
            sku: "CUP-PORCELAIN", name: "Porcelain cup", price: Money("12.50")!, stockOnHand: 120, reorderPoint: 20,
            reorderQuantity: 60),
        NewProduct(
            sku: "POT-CAST-IRON", name: "Cast-iron teapot", price: Money("39.00")!, stockOnHand: 3, reorderPoint: 2,
            reorderQuantity: 10),
    ]
}
