/// Runs a chore at most once per interval, from a loop that calls ``tick()`` often (the
/// outbox relay, after every pass).
actor Housekeeping {
    private let interval: Duration
    private let chore: @Sendable () async -> Void
    private var last = ContinuousClock.now

    init(interval: Duration, chore: @escaping @Sendable () async -> Void) {
        self.interval = interval
        self.chore = chore
    }

    func tick() async {
        guard ContinuousClock.now - last >= interval else { return }
        last = .now
        await chore()
    }
}
