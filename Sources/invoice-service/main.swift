import InvoiceService
import ServiceKit

let configuration = try InvoiceServiceConfiguration()
ServiceRuntime.bootstrapLogging(configuration.service)
try await InvoiceServiceApp.run(configuration)
