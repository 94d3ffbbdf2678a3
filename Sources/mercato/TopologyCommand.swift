import ArgumentParser

/// `mercato topology`: `show` (the default) checks the live topology, `apply` sets it up.
///
/// The group takes no options of its own: ArgumentParser gives an option that a command and
/// its subcommand both declare to the command, so `topology apply --queue-type quorum` once
/// declared classic queues. Each subcommand declares what it uses, and only it.
struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Show the live topology (the default) or apply it.",
        subcommands: [TopologyShowCommand.self, TopologyApplyCommand.self],
        defaultSubcommand: TopologyShowCommand.self)
}
