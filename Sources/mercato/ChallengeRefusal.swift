import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Gives up on an authentication challenge (a 401 with `WWW-Authenticate`, as the management
/// API answers wrong credentials): the credentials are already in the request, and without a
/// delegate that answers, FoundationNetworking never completes such a request at all. The
/// request then fails as cancelled, which ``ManagementClient`` reports as refused credentials.
final class ChallengeRefusal: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    // @unchecked Sendable: no state.

    func urlSession(
        _ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        completionHandler(.cancelAuthenticationChallenge, nil)
    }
}
