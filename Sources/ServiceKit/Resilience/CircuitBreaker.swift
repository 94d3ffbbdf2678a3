import Locking

/// Stops calling a provider that keeps failing, so requests fail fast (and the provider gets
/// room to recover) instead of each waiting out timeouts and retries.
///
/// Closed: calls go through; `failureThreshold` consecutive failures open it. Open: calls
/// are refused at once until `openDuration` has passed. Half-open: one probe call goes
/// through (others are refused); its success closes the circuit, its failure opens it again.
package final class CircuitBreaker<C: Clock>: Sendable where C.Duration == Duration {
    /// The breaker's state, as `/health/ready` and the metrics show it.
    package enum State: String, Sendable {
        case closed
        case open
        case halfOpen = "half_open"
    }

    /// When to open and for how long.
    package struct Configuration: Sendable {
        /// Consecutive failed calls that open the circuit. Default 5.
        package var failureThreshold = 5
        /// How long it stays open before a probe. Default 30 s.
        package var openDuration: Duration = .seconds(30)

        /// The defaults.
        package init() {}
    }

    private enum Phase {
        case closed(failures: Int)
        case open(until: C.Instant)
        case halfOpen(probing: Bool)
    }

    private let phase: Locked<Phase> = Locked(.closed(failures: 0))
    private let clock: C
    private let configuration: Configuration
    private let onChange: @Sendable (State) -> Void

    /// Creates a closed breaker; `onChange` hears every change of state (metrics, logs).
    package init(configuration: Configuration, clock: C, onChange: @escaping @Sendable (State) -> Void = { _ in }) {
        self.configuration = configuration
        self.clock = clock
        self.onChange = onChange
    }

    /// The state now (an open circuit whose time is up reads as half-open).
    package var state: State {
        phase.withLock { phase in
            switch phase {
            case .closed: .closed
            case .open(let until): clock.now >= until ? .halfOpen : .open
            case .halfOpen: .halfOpen
            }
        }
    }

    /// Whether a call may go through now; if so, the caller must report its outcome with
    /// ``record(success:)``. A half-open circuit lets exactly one probe through.
    package func permit() -> Bool {
        let (allowed, changed) = phase.withLock { phase -> (Bool, State?) in
            switch phase {
            case .closed:
                return (true, nil)
            case .open(let until):
                guard clock.now >= until else { return (false, nil) }
                phase = .halfOpen(probing: true)
                return (true, .halfOpen)
            case .halfOpen(let probing):
                if probing { return (false, nil) }
                phase = .halfOpen(probing: true)
                return (true, nil)
            }
        }
        if let changed { onChange(changed) }
        return allowed
    }

    /// Reports the outcome of a permitted call.
    package func record(success: Bool) {
        let changed = phase.withLock { phase -> State? in
            switch (phase, success) {
            case (.closed, true):
                phase = .closed(failures: 0)
                return nil
            case (.closed(let failures), false):
                guard failures + 1 >= configuration.failureThreshold else {
                    phase = .closed(failures: failures + 1)
                    return nil
                }
                phase = .open(until: clock.now.advanced(by: configuration.openDuration))
                return .open
            case (.halfOpen, true), (.open, true):
                phase = .closed(failures: 0)
                return .closed
            case (.halfOpen, false), (.open, false):
                phase = .open(until: clock.now.advanced(by: configuration.openDuration))
                return .open
            }
        }
        if let changed { onChange(changed) }
    }
}
