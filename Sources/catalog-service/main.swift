import CatalogService
import ServiceKit

#if canImport(Glibc)
    import Glibc
#endif

// A write to a socket whose peer has gone (RabbitMQ, PostgreSQL, an HTTP client) raises
// SIGPIPE, whose default action ends the process: a lost peer must be an error, not a crash.
signal(SIGPIPE, SIG_IGN)

let configuration = try CatalogServiceConfiguration()
ServiceRuntime.bootstrap(configuration.service)
try await CatalogServiceApp.run(configuration)
