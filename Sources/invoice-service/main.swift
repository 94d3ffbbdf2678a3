import InvoiceService
import ServiceKit

let configuration = try InvoiceServiceConfiguration()
ServiceRuntime.bootstrap(configuration.service)
try await InvoiceServiceApp.run(configuration)
