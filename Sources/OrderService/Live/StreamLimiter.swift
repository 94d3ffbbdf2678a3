import Locking

/// At most `limit` live streams per caller (token subject) at once. Every stream holds a task,
/// a feed subscription and socket buffers for as long as its client keeps it open, so one
/// token must not be able to open them without end.
final class StreamLimiter: Sendable {
    /// One stream's place. It is given back once: when the stream ends, or when the response
    /// is dropped without its body ever running (the client left before the first write).
    final class Lease: Sendable {
        private let limiter: StreamLimiter
        private let subject: String
        private let returned = Locked(false)

        fileprivate init(limiter: StreamLimiter, subject: String) {
            self.limiter = limiter
            self.subject = subject
        }

        deinit { release() }

        /// Gives the place back; again, it does nothing.
        func release() {
            let first = returned.withLock { returned in
                defer { returned = true }
                return !returned
            }
            if first { limiter.giveBack(subject) }
        }
    }

    /// `ORDER_STREAM_MAX_PER_CALLER`.
    let limit: Int
    private let open = Locked<[String: Int]>([:])

    /// Allows `limit` streams per subject.
    init(limit: Int) {
        self.limit = limit
    }

    /// A place for one more stream of `subject`, or `nil` when it has `limit` open already.
    func lease(for subject: String) -> Lease? {
        let granted = open.withLock { open in
            guard open[subject, default: 0] < limit else { return false }
            open[subject, default: 0] += 1
            return true
        }
        return granted ? Lease(limiter: self, subject: subject) : nil
    }

    /// How many streams `subject` has open.
    func count(for subject: String) -> Int {
        open.withLock { $0[subject, default: 0] }
    }

    private func giveBack(_ subject: String) {
        open.withLock { open in
            let left = open[subject, default: 0] - 1
            // Subjects without a stream are forgotten: the table holds open streams only.
            open[subject] = left > 0 ? left : nil
        }
    }
}
