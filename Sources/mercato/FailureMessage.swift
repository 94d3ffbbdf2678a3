import ArgumentParser
import Broker
import Foundation
import NIOCore
import NIOPosix

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// How `mercato` reports a failure: one line, `mercato: <what failed, and where>`, with no
/// password in it, instead of an error's debug description (`Error Domain=NSURLErrorDomain
/// Code=-1004 "(null)" UserInfo={…}`, or a page of reconnection warnings).
enum FailureMessage {
    /// `error` as that line (without the `mercato: ` prefix); `nil` for ArgumentParser's own
    /// errors, which it reports itself (usage, help, exit codes).
    static func line(for error: any Error) -> String? {
        switch error {
        case is ExitCode, is CleanExit, is ValidationError:
            return nil
        case let error as URLError:
            let url = error.failingURL.map { withoutCredentials($0.absoluteString) } ?? "the server"
            return "cannot reach \(url) (\(reason(error)))"
        case let error as BrokerError:
            // The broker's own messages name the node ("RabbitMQ at host:port is unreachable").
            return oneLine(error.message.hasPrefix("RabbitMQ") ? error.message : "RabbitMQ: \(error.message)")
        case let error as NIOConnectionError:
            let cause =
                error.connectionErrors.first.map { reason($0.error) } ?? error.dnsAError.map { "unknown host: \($0)" }
                ?? "no address"
            return "cannot connect to \(error.host):\(error.port) (\(cause))"
        case let error as IOError:
            return oneLine(reason(error))
        case let error as DecodingError:
            return "the server's answer was not what was expected (\(decodingContext(error)))"
        default:
            let text = String(describing: error)
            // An NSError's description is its debug form; its localized description reads.
            return oneLine(text.hasPrefix("Error Domain=") ? (error as NSError).localizedDescription : text)
        }
    }

    /// Why a request did not get an answer, in a few words.
    static func reason(_ error: URLError) -> String {
        switch error.code {
        case .cannotConnectToHost: "connection refused"
        case .timedOut: "no answer in time"
        case .cannotFindHost, .dnsLookupFailed: "unknown host"
        case .networkConnectionLost: "the connection was lost"
        case .notConnectedToInternet: "no network"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
            .serverCertificateNotYetValid:
            "the TLS handshake failed"
        default: oneLine(error.localizedDescription)
        }
    }

    /// A socket error as its errno's text: `connection refused`.
    private static func reason(_ error: any Error) -> String {
        guard let error = error as? IOError else { return oneLine(String(describing: error)) }
        return String(cString: strerror(error.errnoCode)).lowercased()
    }

    /// `url` without its user and password: `http://127.0.0.1:15672/api/queues/%2F`.
    static func withoutCredentials(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.user = nil
        components.password = nil
        return components.string ?? url
    }

    private static func decodingContext(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
            .dataCorrupted(let context):
            oneLine(context.debugDescription)
        @unknown default:
            oneLine(String(describing: error))
        }
    }

    /// `text` on one line.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }
}
